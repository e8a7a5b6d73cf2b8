"""How answers name their sources and say "not covered": shared by every generator and the pipeline.

Sources are named the way a person would: who is speaking (the essay's `voice` front matter,
else its author) and the essay's title without decoration; sections by their heading in plain
words ("Thinking ahead", not "3. Thinking Ahead").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..records import Document, Passage

_DECORATION = re.compile(r"^[^\w\"“'‘(\[]+|^(?:til|tl;dr)\s*:\s*", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*(?:\d+[.)]\s*)+")

REFUSAL = "The essays don't cover this question."
NO_TOPICS_HINT = "Try asking about AI research careers, learning resources, PhDs or interviews."


def plain_title(title: str) -> str:
    """ "💡 TIL: Advice for Mid-Career AI Researchers" -> "Advice for Mid-Career AI Researchers"."""
    text = title.strip()
    for _ in range(3):
        stripped = _DECORATION.sub("", text).strip()
        if stripped == text:
            break
        text = stripped
    return text or title.strip()


def plain_section(section: str) -> str:
    """The last heading of a section path, numbering dropped, in sentence case."""
    last = section.split(" > ")[-1] if section else ""
    last = _NUMBERING.sub("", last).strip(" #:")
    return sentence_case(last)


def sentence_case(heading: str) -> str:
    """ "Develop Strong Coding Skills" -> "Develop strong coding skills"; acronyms (AI, ML, PhD) stay."""
    words = heading.split()
    out = []
    for i, w in enumerate(words):
        keep = i == 0 or (len(w) > 1 and any(c.isupper() for c in w[1:])) or (w.isupper() and len(w) > 1)
        out.append(w if keep else w.lower())
    return " ".join(out)


def speaker(document: Document, *, named: bool = True) -> str:
    """Who is speaking in a source, for introducing its points: "Joshua Adrian Cahyono, an NTU
    undergraduate who interned in ML research, in “My Journey into AI Research as an NTU
    Student”" (name and voice from the front matter, either alone when only one is given;
    `named=False` leaves the name out where a voice is given, as the local LLM's prompt does:
    SmolLM2 copied the longer header into its answers, bench/generators.py)."""
    title = plain_title(document.title)
    voice = (document.voice or "").strip().rstrip(".")
    author = (document.author or "").strip().rstrip(".") if named or not document.voice else ""
    who = f"{author}, {lower_article(voice)}" if author and voice else voice or author
    return f"{who}, in “{title}”" if who else f"In “{title}”"


def lower_article(text: str) -> str:
    """ "An NTU undergraduate" -> "an NTU undergraduate", "In “Notes”" -> "in “Notes”", for use
    mid-sentence (after a name, after "On “a PhD”,"); names and acronyms stay as they are."""
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first in ("A", "An", "The", "In") else text


def topic_label(passage: Passage) -> str:
    """A covered topic named in plain words: "Thinking ahead (How to Get Started with AI Research)"."""
    title = plain_title(passage.title)
    section = plain_section(passage.section)
    return f"{section} ({title})" if section and section.lower() != title.lower() else title


def refusal_text(passages: Sequence[Passage] = ()) -> str:
    """The refusal, with the nearest topics the essays do cover, so the user can rephrase: the
    question's own passages first, then those a comparison's options brought."""
    topics: list[str] = []
    for p in sorted(passages, key=lambda p: p.from_option > 0):
        label = topic_label(p)
        if label not in topics:
            topics.append(label)
        if len(topics) == 3:
            break
    if not topics:
        return f"{REFUSAL} {NO_TOPICS_HINT}"
    return REFUSAL + " The nearest topics they do cover:\n" + "".join(f"\n- {t}" for t in topics) + "\n"


# What a greeting, a thanks or a goodbye is made of: said alone, it is no question to search for.
_GREETING = frozenset(["hi", "hello", "hey", "heya", "hiya", "yo", "morning", "evening", "afternoon", "good", "there"])
_THANKS = frozenset(["thanks", "thank", "thx", "ty", "cheers", "appreciate", "helpful"])
_GOODBYE = frozenset(["bye", "goodbye", "later", "ya"])
# words that go with them ("ok cool thank you so much", "got it", "see ya")
_ALONGSIDE = frozenset(
    [
        "it",
        "you",
        "so",
        "much",
        "very",
        "a",
        "lot",
        "ok",
        "okay",
        "cool",
        "great",
        "nice",
        "awesome",
        "perfect",
        "got",
        "sounds",
        "that",
        "this",
        "was",
        "lol",
        "haha",
        "see",
    ]
)
_SMALL_TALK_WORD = re.compile(r"[^\W\d_]+")


def small_talk_reply(question: str) -> str | None:
    """The reply to a message that only greets, thanks or says goodbye ("hi", "thanks!", "ok
    cool thank you so much"), or None for anything else. Searched, "hi" found a line about
    meeting the head of a robotics club, and "thanks!" was answered "Thank you for reading!"."""
    words = [w.lower() for w in _SMALL_TALK_WORD.findall(question)]
    said = set(words)
    if not words or len(words) > 8 or not said <= _GREETING | _THANKS | _GOODBYE | _ALONGSIDE:
        return None
    if said & _THANKS:
        return "You're welcome! Ask another question whenever you like."
    if said & _GOODBYE:
        return "Good luck! Come back with any question about getting into AI."
    if said <= _GREETING:
        return f"Hi! I answer questions about getting into AI research and careers from the essays, with citations. {NO_TOPICS_HINT}"
    return f"Ask me a question about getting into AI research and careers. {NO_TOPICS_HINT}"


# A question about the assistant itself: what it is, what it knows, how to use it.
_ABOUT_THE_BOT = re.compile(
    r"^\W*(?:(?:hi|hello|hey|so|ok|okay)\W+)?(?:"
    r"who (?:are|r) (?:you|u)|what (?:are|r) (?:you|u)|what (?:can|do) (?:you|u) do|how (?:do (?:you|u)|does this) work|"
    r"help|what can i ask(?: (?:you|u))?|"
    r"what (?:do (?:you|u) know|(?:topics?|essays?|sources?|things|subjects?) (?:do|can) (?:you|u) (?:know|have|cover|answer))"
    r"(?: about)?)\W*$",
    re.IGNORECASE,
)


def about_the_assistant(question: str, documents: Sequence[Document]) -> str | None:
    """The reply to "who are you?", "what can you do?", "help", "what essays do you have?": what
    the assistant does and the essays it answers from (those of the index asked), or None for any
    other question. Searched, "what can you do?" was answered "Almost nothing else you could do
    is higher value."."""
    if not _ABOUT_THE_BOT.match(question.strip()):
        return None
    essays = [d for d in documents if d.kind != "resource"]
    resources = len(documents) - len(essays)
    lines = [
        "I answer questions about getting into AI research and careers from these essays, quoting and citing them:"
    ]
    for doc in sorted(essays, key=lambda d: plain_title(d.title).lower()):
        lines.append(f"- {plain_title(doc.title)}" + (f" ({doc.author})" if doc.author else ""))
    if resources:
        lines.append(f"and {resources} curated learning resources.")
    lines.append(f"{NO_TOPICS_HINT} For example: “how do I prepare for an ML interview?”")
    return "\n".join(lines)


def corrections_note(corrected: Sequence[tuple[str, str]]) -> str:
    """What the search corrected, so a wrong guess is seen: "Searched for “interviews” (typed
    “intervews”)."."""
    return "Searched for " + ", ".join(f"“{searched}” (typed “{typed}”)" for typed, searched in corrected) + "."


def partial_lead(uncovered: Sequence[str]) -> str:
    """The opening of a partly covered answer: what the essays do not address."""
    if uncovered:
        shown = ", ".join(f"“{w}”" for w in uncovered[:3])
        return f"The essays don't address {shown} directly; the closest they come is this.\n\n"
    return "The essays don't answer this directly; the closest they come is this.\n\n"
