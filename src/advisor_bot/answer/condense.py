"""A question (+ earlier turns) -> the standalone query retrieval searches with.

A question that stands on its own is searched as asked (chat spellings like "calc" written
out). A follow-up ("and what about the maths?", "how did the deepmind one go?", "ok for the
first one, which algorithms?") keeps its own words first and adds only what it refers to:
the topic words of the previous question, the item an ordinal names ("the first one"), and,
when it points back at a thing ("that", "it"), the few key words of the previous answer's
first sentence ("he" or "she" is the person the previous question named). Raw history is
never searched with.

An LLM generator that declares `can_condense` may rewrite follow-ups instead; the pipeline
falls back to these rules when it fails.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..generators.wording import small_talk_reply
from ..records import Message
from ..text.glossary import formalise
from ..text.markers import strip_markers
from ..text.sentences import split_units
from ..text.words import WORD, content_words, stopwords

TOPIC_WORDS = 8  # words of the previous question kept as the follow-up's topic
MAX_TURNS = 20  # earlier turns a follow-up chain is read back through (the Advisor keeps 8)
ANSWER_WORDS = 8  # words of the previous answer kept when the follow-up points back at it

# Words by which a question leans on what came before.
_REFERRING = frozenset(
    [
        "it",
        "its",
        "that",
        "this",
        "those",
        "these",
        "they",
        "them",
        "their",
        "he",
        "him",
        "his",
        "she",
        "her",
        "one",
        "ones",
        "former",
        "latter",
        "above",
        "same",
        "such",
        "there",
        "else",
        "more",
        "also",
        "then",
    ]
)
_POINTING = frozenset(["it", "that", "this", "those", "these", "they", "them", "he", "him", "his", "she", "her"])
# "he" or "she" points at a person, whom the earlier question named ("did he publish a lot
# during his phd?" after "how did nathan lambert get into AI?"): the answer's words, there "Other
# thinkers I follow ... Tyler Cowen's lead", add nothing but noise
_PERSONAL = frozenset(["he", "him", "his", "she", "her"])
_ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "last": -1,
    "final": -1,
}
_ORDINAL_REF = re.compile(
    r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|final)\s+"
    r"(?:one|item|option|point|thing|area|topic)\b",
    re.IGNORECASE,
)
# a follow-up naming its new subject ("what about leetcode"; not "what about that")
_ABOUT = re.compile(
    r"\b(?:what|how) about\s+(?:the\s+)?(?!(?:it|that|this|these|those|them|him|her|one|other|others|rest)\b)\w+",
    re.IGNORECASE,
)
# a question about how an event went, naming no one ("how did the FAIR internship go?", "what
# was the interview like?"): asked in a conversation, it is about the person or plan before
_HOW_IT_WENT = re.compile(
    r"^\W*(?:(?:so|and|ok(?:ay)?)\W+)?(?:how|what) (?:did|was|were|is|are) (?:the|that|this|your|his|her|their) "
    r"(?:[\w*'-]+ ){0,3}?[\w*'-]+\s+(?:go|went|turn out|end up|like|about)\W*$",
    re.IGNORECASE,
)
# "there" as a place the conversation named ("what did he do there?"), not "is there ...?"
_THERE_PLACE = re.compile(
    r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )(?<!\bany )\bthere\b"
    r"(?!\s+(?:is|are|was|were|be|been|will|would|might|may|could|should|must|seems?|exists?|any)\b|'s\b)",
    re.IGNORECASE,
)
_LEADS = re.compile(r"^\s*(what about|how about|and|so|ok(ay)?|also|then|but)\b", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+(.+)$", re.MULTILINE)


def condense(question: str, history: Sequence[Message] = ()) -> str:
    """The standalone query for a question: itself, or a follow-up made to stand alone."""
    return _condense(" ".join(question.split()), _turns(history)[-MAX_TURNS:])


def _turns(history: Sequence[Message]) -> list[tuple[str, str]]:
    """(question, the answer that followed it) in order; a reply with no question before it (a
    greeting) belongs to none, a question not yet answered has "". A "thanks!" or "hi" and its
    reply are no turn: the conversation's topic is what was asked before them."""
    out: list[tuple[str, str]] = []
    chatting = False
    for m in history:
        content = str(m.get("content", "") or "")
        if m.get("role") == "user" and content.strip():
            chatting = small_talk_reply(content) is not None
            if not chatting:
                out.append((content, ""))
        elif chatting:
            continue
        elif m.get("role") == "assistant" and out and not out[-1][1]:
            out[-1] = (out[-1][0], content)
    return out


def _condense(question: str, turns: Sequence[tuple[str, str]]) -> str:
    if not turns or not needs_context(question):
        return formalise(question)
    named = _ABOUT.search(question)
    previous = _topic(turns, swapped=named is not None)
    answer = strip_markers(turns[-1][1])
    resolved = resolve_ordinal(question, answer)
    own = set(content_words(resolved))
    # "and what about the maths?" asks about "the maths": the lead-in carries no meaning
    parts = [formalise(_without_lead_in(resolved))]
    topic = [w for w in _ordered_content(previous) if w not in own][:TOPIC_WORDS]
    parts.append(" ".join(topic))
    words = {w.lower() for w in WORD.findall(question)}
    if named and _POINTING & {w.lower() for w in WORD.findall(question[named.end() :])}:
        words = set()  # "what about leetcode, how much time on that?": "that" is leetcode, named just before
    if answer and resolved == question and (words & (_POINTING - _PERSONAL) or _THERE_PLACE.search(question)):
        seen = own | set(topic)
        first = _first_statement(answer)
        parts.append(" ".join([w for w in _ordered_content(first) if w not in seen][:ANSWER_WORDS]))
    return " ".join(p for p in parts if p)


def _topic(turns: Sequence[tuple[str, str]], *, swapped: bool) -> str:
    """What the conversation is about, for a follow-up to the last question of `turns`: that
    question made standalone itself (a chain "how do I prepare for an ML interview?" -> "and
    what about the maths?" -> "how long should I spend on it?" keeps the interview). When the
    follow-up swaps the subject ("what about leetcode?") and the last question swapped one too
    ("and what about the maths?"), the earlier frame is kept, not the swapped-out subject."""
    last, earlier = turns[-1][0], turns[:-1]
    if not earlier or not needs_context(last):
        return formalise(last)
    if swapped and _ABOUT.search(last):
        return _topic(earlier, swapped=True)
    return _condense(" ".join(last.split()), earlier)


def needs_context(question: str) -> bool:
    """Whether a question leans on earlier turns: it refers back ("that", "the first one",
    "what about ...", "how did the internship go?") or is too short to stand alone."""
    words = [w.lower() for w in WORD.findall(question)]
    content = [w for w in words if w not in stopwords()]
    return bool(
        _ORDINAL_REF.search(question)
        or _LEADS.match(question)
        or _HOW_IT_WENT.match(question)
        or any(w in _REFERRING for w in words)
        or len(content) <= 2
    )


def list_items(answer: str) -> list[str]:
    """The items an answer enumerated: its bullet lines, else the comma list after a colon."""
    bullets = [b.strip() for b in _BULLET.findall(answer)]
    if len(bullets) >= 2:
        return bullets
    for sentence in re.split(r"(?<=[.!?])\s+", answer):
        _, colon, tail = sentence.partition(":")
        body = tail if colon else sentence
        items = [i.strip(" .;") for i in re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+", body) if i.strip(" .;")]
        if len(items) >= 3:
            return items
    return []


def resolve_ordinal(question: str, previous_answer: str) -> str:
    """'the first one' -> the first item the previous answer listed (when it listed any)."""
    match = _ORDINAL_REF.search(question)
    items = list_items(previous_answer) if match else []
    if not match or not items:
        return question
    index = _ORDINALS[match.group(1).lower()]
    if index >= len(items):
        return question
    return question[: match.start()] + items[index] + question[match.end() :]


def _without_lead_in(question: str) -> str:
    """ "ok and what about the maths?" -> "the maths?"."""
    text = question
    for _ in range(3):
        stripped = _LEADS.sub("", text, count=1).strip(" ,")
        if stripped == text:
            break
        text = stripped
    return text or question


def _ordered_content(text: str) -> list[str]:
    out: list[str] = []
    for w in content_words(text):
        if w not in out:
            out.append(w)
    return out


def _first_statement(answer: str) -> str:
    """The first whole sentence of an earlier answer (its main claim)."""
    for unit in split_units(answer):
        if unit.is_statement:
            return unit.text
    return answer[:300]
