"""Cited lines: a llama.cpp grammar that makes a small model begin every answer line with a
real source number, and the stream filter that moves that number to the line's end.

SmolLM2-135M, asked to end sentences with "[1]", cited in 2 of 10 dev answers and invented
freely (bench/generators.py). The sources reach it as "[1] sentence" lines; an answer in the
same shape is what such a model writes best: once "[1] " is forced, it tends to continue with
that source's line. The grammar allows only numbers the prompt holds, so every line cites a
passage that exists; the grounding check still decides which lines are supported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

_PREFIX = re.compile(r"\[(\d{1,3})\] ?")


def grammar(numbers: Sequence[int], max_lines: int) -> str:
    """GBNF for 1..max_lines lines of "[n] text", n one of `numbers`; text holds no brackets or
    line breaks (so no second marker and no copied header block)."""
    if not numbers:
        raise ValueError("a cited-lines grammar needs at least one source number")
    if max_lines < 1:
        raise ValueError("max_lines must be at least 1")
    lines = " ".join(["line"] + ["line?"] * (max_lines - 1))
    alternatives = " | ".join(f'"{n}"' for n in sorted(set(numbers)))
    return f'root ::= {lines}\nline ::= "[" num "] " text "\\n"\nnum ::= {alternatives}\ntext ::= [^\\[\\]\\n]+\n'


def markers_last(pieces: Iterable[str]) -> Iterator[str]:
    """Turn streamed "[n] text\\n" lines into "text [n] " as they arrive: the line's words
    stream as soon as its prefix is complete; its marker follows at the line break."""
    pending = ""  # the start of a line, until its "[n] " prefix is complete
    number: str | None = None
    for piece in pieces:
        out: list[str] = []
        for char in piece:
            if number is None:
                if char == "\n":
                    out.append(pending + char)
                    pending = ""
                    continue
                pending += char
                m = _PREFIX.match(pending)
                if m and (pending.endswith(" ") or len(pending) > m.end()):
                    number = m.group(1)
                    out.append(pending[m.end() :])
                    pending = ""
                elif not m and not _could_start(pending):
                    number = ""  # a line without a prefix (no grammar): pass it through
                    out.append(pending)
                    pending = ""
            elif char == "\n":
                out.append(f" [{number}] " if number else "\n")
                number = None
            else:
                out.append(char)
        if text := "".join(out):
            yield text
    if number:
        yield f" [{number}]"
    elif pending.strip():
        yield pending


def _could_start(text: str) -> bool:
    """Whether `text` may still grow into a "[n] " prefix."""
    return bool(re.fullmatch(r"\[\d{0,3}\]?", text))
