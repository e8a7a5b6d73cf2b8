"""Checking and renumbering [n] markers while an answer streams.

A marker survives only if it names a passage that was given to the generator. Survivors are
renumbered in order of first use, so the reader sees [1], [2], ... and the citation list
follows the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..text.markers import MARKER, NUMBER

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

    def stream(self, pieces: Iterable[str]) -> Iterator[str]:
        for piece in pieces:
            out = self.feed(piece)
            if out:
                yield out
        tail = self.flush()
        if tail:
            yield tail

    def _rewrite(self, text: str) -> str:
        return MARKER.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        kept: list[int] = []
        for raw in NUMBER.findall(match.group(2)):
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
