"""Checking and renumbering [n] markers while an answer streams.

A marker survives only if it names a passage that was given to the generator. Survivors are
renumbered in order of first use, so the reader sees [1], [2], ... and the citation list
follows the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

# "[3]", "[1, 2]", "[source 2]", "[Passage 4; 5]": digits with optional labels, nothing else.
_MARKER = re.compile(r"([ \t]*)\[\s*((?:(?:source|passage|doc(?:ument)?)\s*)?\d{1,3}(?:\s*[,;]\s*(?:(?:source|passage|doc(?:ument)?)\s*)?\d{1,3})*)\s*\]",
                     re.IGNORECASE)
_NUMBER = re.compile(r"\d{1,3}")
_MAX_PENDING = 40  # a "[" that is not closed within this many characters is plain text


@dataclass
class CitationFilter:
    """Feed streamed pieces in, get cleaned pieces out; `order` maps passage number -> citation number."""

    passage_count: int
    order: dict[int, int] = field(default_factory=dict)
    dropped: int = 0
    _pending: str = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        self._pending = ""
        # Hold back an unclosed "[" (maybe the start of a marker) and the blanks before it or at
        # the end, so that a marker dropped later can take its leading space with it.
        cut = text.rfind("[")
        if cut == -1 or "]" in text[cut:] or len(text) - cut > _MAX_PENDING:
            cut = len(text)
        while cut > 0 and text[cut - 1] in " \t":
            cut -= 1
        text, self._pending = text[:cut], text[cut:]
        return self._rewrite(text)

    def flush(self) -> str:
        text, self._pending = self._pending, ""
        return self._rewrite(text)

    def stream(self, pieces: Iterator[str]) -> Iterator[str]:
        for piece in pieces:
            out = self.feed(piece)
            if out:
                yield out
        tail = self.flush()
        if tail:
            yield tail

    def _rewrite(self, text: str) -> str:
        return _MARKER.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        kept: list[int] = []
        for raw in _NUMBER.findall(match.group(2)):
            n = int(raw)
            if 1 <= n <= self.passage_count:
                if n not in self.order:
                    self.order[n] = len(self.order) + 1
                if self.order[n] not in kept:
                    kept.append(self.order[n])
            else:
                self.dropped += 1
        # A marker that cites nothing valid disappears with the space before it.
        return match.group(1) + "".join(f"[{k}]" for k in kept) if kept else ""


def markers(text: str) -> list[int]:
    """Citation numbers used in a (checked) answer, in order of appearance."""
    return [int(n) for m in _MARKER.finditer(text) for n in _NUMBER.findall(m.group(2))]


def sentences_citing(text: str) -> dict[int, list[str]]:
    """For each citation number, the answer sentences (or list items) that carry it."""
    out: dict[int, list[str]] = {}
    for piece in re.split(r"(?<=[.!?])\s+(?!\[)|\n+", text):
        for n in markers(piece):
            stripped = _MARKER.sub("", piece).strip(" -*")
            if stripped:
                out.setdefault(n, []).append(stripped)
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?])(?=\s)|\n+")
_CONTENT = re.compile(r"[a-z0-9]{3,}")
_COMMON = frozenset(["the", "and", "for", "you", "your", "that", "this", "with", "are", "was", "were", "have", "has", "not", "but", "can", "will", "from", "they", "them", "their", "what", "when", "which", "who", "how", "why", "also", "just", "more", "most", "some", "any", "all", "its", "it's", "into", "out", "about", "would", "should", "could", "been", "being", "there", "here", "than", "then", "very", "such", "each", "other"])


def attribute_uncited(text: str, passage_texts: list[str], order: dict[int, int], *,
                      min_overlap: float = 0.6, min_words: int = 5) -> tuple[str, int]:
    """Give a marker to each uncited sentence that one passage sentence clearly supports.

    Small local models often answer from the sources without writing [n]; a sentence whose
    content words mostly (min_overlap) occur in one sentence of passage n is cited as n.
    Unsupported sentences stay uncited. Returns the new text and how many markers were added;
    `order` (passage number -> citation number) is extended in place.
    """
    from .sentences import split_units

    units = [(n, set(_CONTENT.findall(u.text.lower())) - _COMMON)
             for n, t in enumerate(passage_texts, start=1) for u in split_units(t)]
    out: list[str] = []
    added = 0
    pos = 0
    for match in [*list(_SENTENCE_END.finditer(text)), None]:
        end = match.start() if match else len(text)
        sentence = text[pos:end]
        words = set(_CONTENT.findall(sentence.lower())) - _COMMON
        if sentence.strip() and not _MARKER.search(sentence) and len(words) >= min_words and units:
            n, support = max(((n, len(words & u) / len(words)) for n, u in units), key=lambda x: x[1])
            if support >= min_overlap:
                number = order.setdefault(n, len(order) + 1)
                sentence = sentence.rstrip() + f" [{number}]" + sentence[len(sentence.rstrip()):]
                added += 1
        out.append(sentence)
        if match:
            out.append(text[end:match.end()])
            pos = match.end()
    return "".join(out), added
