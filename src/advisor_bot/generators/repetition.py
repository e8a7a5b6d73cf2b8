"""Stop a model that has started repeating itself.

Greedy decoding without a repeat penalty (what keeps SmolLM2's copies faithful) sometimes runs
on inside one line until the token limit: "The researcher in the 11.1.1.1.1.1 ...", "I had to
be sure to balance my work with my internship." four times over. Nothing of the loop can be
shown (the grounding drops repeats and runaway sentences), so the stream ends once the loop has
come round four times, and the reader waits for the answer's real lines only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# a piece of 1-80 characters said at least four times in a row at the end of the text
_LOOP = re.compile(r"(.{1,80}?)\1{3,}$", re.DOTALL)
TAIL = 320  # characters of the end of the text searched for a loop
SHORTEST = 24  # characters a loop spans at least ("very very very very good" is no loop)


def until_repeating(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces, until the text they make ends in a loop (that piece is the last one)."""
    tail = ""
    for piece in pieces:
        yield piece
        tail = (tail + piece)[-TAIL:]
        if piece.strip() and _loops(tail):
            return


def _loops(text: str) -> bool:
    """Whether the text ends in a loop of something said ("1.", not "-" of a table rule)."""
    m = _LOOP.search(text)
    return bool(m and len(m.group(0)) >= SHORTEST and any(c.isalnum() for c in m.group(1)))
