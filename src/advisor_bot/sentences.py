"""Passage text -> readable units (sentences, or runs of short list items) with their offsets.

The extractive generator quotes these units and the UI highlights them, so each unit
remembers where in the passage it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_QUOTE = re.compile(r"^\s*(?:>\s*)+")
_HEADING = re.compile(r"^\s*#{1,6}\s")
# A sentence ends at . ! or ? (optionally followed by closing quotes or brackets) before
# white space and something that can start a sentence.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)\]*_]*\s+(?=[\"'“‘(\[*_]*[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "dr.", "prof.", "mr.", "ms.", "mrs.", "u.s.", "et al.", "fig.", "no.")
SHORT_ITEM_WORDS = 8
# Bump when split_units changes: indexes record it, and a build re-embeds units whose bounds moved.
SPLITTER_VERSION = 1


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a passage: `text` is cleaned for display, `start`/`end` locate
    the original characters in the passage."""

    text: str
    start: int
    end: int
    is_list: bool = False


def split_units(text: str) -> list[Unit]:
    """Sentences of paragraphs and long list items; runs of short list items as one unit
    (a list of topics is only useful together)."""
    units: list[Unit] = []
    run: list[tuple[str, int, int]] = []
    lead: tuple[str, int, int] | None = None  # "List of topics to start learning:" before a run

    def flush_run() -> None:
        nonlocal run, lead
        if run:
            items = "; ".join(item for item, _, _ in run)
            start = run[0][1]
            if lead is not None:
                items = f"{lead[0]} {items}"
                start = lead[1]
            units.append(Unit(text=items, start=start, end=run[-1][2], is_list=True))
        elif lead is not None:
            units.extend(_sentences(lead[0], lead[1]))
        run, lead = [], None

    offset = 0
    for raw_line in text.splitlines(keepends=True):
        line_start = offset
        offset += len(raw_line)
        line = raw_line.rstrip("\n")
        if not line.strip() or _HEADING.match(line):
            continue
        body_start = line_start
        m = _QUOTE.match(line)
        if m:
            body_start += m.end()
            line = line[m.end():]
        bullet = _BULLET.match(line)
        if bullet:
            content = line[bullet.end():].strip()
            content_start = body_start + bullet.end() + (len(line[bullet.end():]) - len(line[bullet.end():].lstrip()))
            if len(content.split()) <= SHORT_ITEM_WORDS:
                run.append((content, content_start, content_start + len(content)))
                continue
            flush_run()
            units.extend(_sentences(content, content_start))
            continue
        flush_run()
        stripped = line.strip()
        lead_start = body_start + (len(line) - len(line.lstrip()))
        if stripped.endswith(":") and len(stripped.split()) <= 12:
            lead = (stripped, lead_start, lead_start + len(stripped))
            continue
        units.extend(_sentences(stripped, lead_start))
    flush_run()
    return [u for u in units if len(u.text.split()) >= 2 or u.is_list]


def _sentences(text: str, base: int) -> list[Unit]:
    out: list[Unit] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        candidate = text[start:m.start()].strip()
        if candidate.lower().endswith(_ABBREVIATIONS) or not candidate:
            continue
        out.append(_unit(text, start, m.start(), base))
        start = m.end()
    if text[start:].strip():
        out.append(_unit(text, start, len(text), base))
    return out


def _unit(text: str, start: int, end: int, base: int) -> Unit:
    piece = text[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    return Unit(text=piece, start=base + start + lead, end=base + start + lead + len(piece))
