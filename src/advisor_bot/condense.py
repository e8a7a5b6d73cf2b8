"""Follow-up questions -> standalone queries, so that raw history never reaches the retriever.

Rule-based by default: a follow-up ("how did the deepmind one go?", "ok for the first one,
which algorithms?") is rewritten into one query from the question, the previous question
and the informative words of the previous answer, with "the first one" replaced by the
first item the previous answer listed. A question that stands on its own is left alone.
An LLM generator can offer its own condenser (see generators.Generator.condense).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .generators import Message

MAX_ANSWER_WORDS = 40

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'+#.\-]*[A-Za-z0-9+#]|[A-Za-z0-9]")
_CITATION = re.compile(r"\[(?:Source\s*)?[^\]]{1,40}\]")
_NOTICE = re.compile(r"^\s*[*_].*(generator failed|instead)\b.*$", re.IGNORECASE | re.MULTILINE)
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,2}[.)])\s+(.+)$", re.MULTILINE)
# Words by which a question leans on what came before.
_REFERRING = frozenset(
    ["it", "its", "that", "this", "those", "these", "they", "them", "their", "he", "him", "his", "she", "her", "one", "ones", "former", "latter", "above", "same", "such", "there", "else", "more", "also", "then"]
)
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
             "fifth": 4, "5th": 4, "last": -1, "final": -1}
_ORDINAL_REF = re.compile(
    r"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|final)\s+(?:one|item|option|point|thing|area|topic)\b",
    re.IGNORECASE,
)
_LEADS = re.compile(r"^\s*(what about|how about|and|so|ok(ay)?|also|then|but)\b", re.IGNORECASE)
STOPWORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "here", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over", "own", "same", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "says", "say", "said", "here", "sources", "source"]
)


class Condenser(Protocol):
    def __call__(self, question: str, history: Sequence[Message]) -> str: ...


def condense(question: str, history: Sequence[Message] | None = None) -> str:
    """The question as a standalone query. Without history it is the question itself."""
    question = question.strip()
    users = [m["content"] for m in history or [] if m.get("role") == "user" and str(m.get("content", "")).strip()]
    answers = [m["content"] for m in history or [] if m.get("role") == "assistant"]
    if not users or not needs_context(question):
        return question
    previous_question = users[-1].strip()
    previous_answer = clean_answer(answers[-1]) if answers else ""
    resolved = resolve_ordinal(question, previous_answer)
    extra = answer_terms(previous_answer, exclude=resolved + " " + previous_question)
    parts = [resolved, previous_question] + ([" ".join(extra)] if extra else [])
    return " ".join(p for p in parts if p)


def needs_context(question: str) -> bool:
    """Whether a question leans on earlier turns: it refers back ("that", "the first one",
    "what about ...") or is too short to stand alone."""
    words = [w.lower() for w in _WORD.findall(question)]
    content = [w for w in words if w not in STOPWORDS]
    return bool(_ORDINAL_REF.search(question) or _LEADS.match(question)
                or any(w in _REFERRING for w in words) or len(content) <= 2)


def clean_answer(text: str) -> str:
    """An earlier answer without citation markers, fallback notices or the answer lead-in."""
    text = _NOTICE.sub("", text)
    text = _CITATION.sub("", text)
    return text.replace("Here is what the sources say:", "").strip()


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
    return question[: match.start()] + items[index] + question[match.end():]


def answer_terms(answer: str, *, exclude: str = "", limit: int = MAX_ANSWER_WORDS) -> list[str]:
    """Informative words of an earlier answer, in order, once each."""
    seen = {w.lower() for w in _WORD.findall(exclude)}
    out: list[str] = []
    for word in _WORD.findall(answer):
        low = word.lower()
        if low in STOPWORDS or low in seen or len(low) < 3:
            continue
        seen.add(low)
        out.append(word)
        if len(out) >= limit:
            break
    return out
