"""Citation markers: "[3]", "[1, 2]", "[source 2]" in model output; "[n]" in a checked answer.

One pattern for every module that finds, checks, strips or renders markers.
"""

from __future__ import annotations

import re

_LABEL = r"(?:(?:source|passage|doc(?:ument)?)\s*)?"
# leading blanks (so a dropped marker takes its space with it), then the bracketed numbers
MARKER = re.compile(rf"([ \t]*)\[\s*({_LABEL}\d{{1,3}}(?:\s*[,;]\s*{_LABEL}\d{{1,3}})*)\s*\]", re.IGNORECASE)
NUMBER = re.compile(r"\d{1,3}")


def markers(text: str) -> list[int]:
    """Citation numbers in a text, in order of appearance."""
    return [int(n) for m in MARKER.finditer(text) for n in NUMBER.findall(m.group(2))]


def strip_markers(text: str) -> str:
    """The text without any citation marker."""
    return MARKER.sub("", text)
