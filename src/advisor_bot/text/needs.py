"""What a "do I need X?" question asks is needed, and whether a sentence says X is needed.

"do i need a phd to do ai research?" is answered by "to become a professional researcher you
will need professional training = a PhD programme", but MiniLM puts "Starting my PhD in the
fall of 2017, ..." and "AI Residency: Excellent bridge between a PhD and an industry job" far
closer to the question; and "do i need a masters for ml research" opened on "Probably there are
not many people interested in ML research as an undergraduate in NTU". "can i skip calc?" and
"is a masters really necessary?" ask the same the other way. The selection lifts a
sentence that says the asked-for thing is needed (answer/select.py, `answer.need_lift`).
"""

from __future__ import annotations

import functools
import re

from .words import content_stems

# "do I (really) need (to know) X ...", "... without (a) X", "can I skip X", "is X necessary": X is
# up to three words, ending where a preposition starts what X is needed for ("a phd | to do ai research")
_ASKS_NEED = re.compile(
    r"\b(?:do|does|will|would) (?:i|you|we|one|people) (?:really |actually |even |still )?need "
    r"(?:to (?:\w+ )?)?((?:(?!(?:to|for|in|at|of|if|when|before|as|with)\b)[\w'-]+ ?){1,3})"
    r"|\bwithout (?:a |an |any )?([\w'-]+)"
    # "can i skip calc?", "can i get away without math": whether it is needed, asked the other way
    r"|\bcan (?:i|you|we|one) (?:still |just |really )?(?:skip|avoid|ignore|drop|get (?:by|away) without|do without) "
    r"((?:(?!(?:to|for|in|at|of|if|when|before|as|with|and)\b)[\w'-]+ ?){1,3})"
    # "is a masters really necessary?"
    r"|\b(?:is|are) (?:a |an |the )?([\w'-]+(?: [\w'-]+)?) (?:really |actually |even |still )?"
    r"(?:necessary|required|needed|essential|mandatory|a must)\b",
    re.IGNORECASE,
)
# words too general to name what is needed ("do i need to be good at ...", "... something new")
_TOO_GENERAL = (
    "research ml ai machine learning good thing things something anything lot really actually even still just part bit"
)
# a sentence saying something is needed; "has to do with" is not one, so "have to" is left out
_STATES_NEED = re.compile(r"\b(?:need|needs|needed|necessary|required|requires?|must|essential|mandatory)\b", re.I)


@functools.cache
def too_general() -> frozenset[str]:
    """The stems of words too general to name what a question asks about (research, ML, good,
    thing ...); stemmed once, on the first question (not at import: the stop words load bm25s)."""
    return frozenset(content_stems(_TOO_GENERAL))


def needed_words(question: str) -> frozenset[str]:
    """The stems of what a "do I need X?" question asks is needed ("a phd" -> {"phd"}); empty
    for any other question."""
    match = _ASKS_NEED.search(question)
    if match is None:
        return frozenset()
    thing = next(group for group in match.groups() if group is not None)
    return frozenset(content_stems(thing) - too_general())


def states_need(text: str, needed: frozenset[str]) -> bool:
    """Whether the sentence says that one of the needed things is needed (or is not)."""
    return bool(needed) and bool(_STATES_NEED.search(text)) and bool(needed & content_stems(text))
