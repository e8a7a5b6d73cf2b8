"""What every script under bench/ shares: where things are, percentiles, and the table printer.

    from benchlib import DEV_QUESTIONS, ROOT, median, note, percentile, print_table

Tables are markdown-style (rich's MARKDOWN box) so a run's output pastes into docs/ as it is;
percentiles are numpy's "nearest" method (a value that was measured, never an interpolation).
"""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev.jsonl"

console = Console(width=200, highlight=False)


def note(text: str) -> None:
    """A line above or below a table, never wrapped (it may be longer than the console)."""
    console.print(text, soft_wrap=True)


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (q from 0 to 100) of the values, one of them; nan when there are none."""
    data = np.asarray(list(values), dtype=np.float64)
    return float(np.percentile(data, q, method="nearest")) if data.size else float("nan")


def median(values: Iterable[float]) -> float:
    """The median (the mean of the two middle values for an even count); nan when there are none."""
    data = np.asarray(list(values), dtype=np.float64)
    return float(np.median(data)) if data.size else float("nan")


def ratio(a: float, b: float) -> str:
    """a / b as "1.23x", or "-" when b is zero or either is missing."""
    if not (np.isfinite(a) and np.isfinite(b)) or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def runs(values: Iterable[float], fmt: str = "{:.2f}") -> str:
    """Every measurement, comma-separated, for the "runs" column."""
    return ", ".join(fmt.format(v) for v in values)


def machine() -> str:
    """Date, cores and Python: the line every table that compares times is printed under."""
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return f"{now}; {os.cpu_count()} cpus; Python {platform.python_version()} ({platform.machine()})"


def encoder_backend(embedder: Any) -> str:
    """ "onnx" or "torch": what encodes the questions of an Embedder (AutoEmbedder says which)."""
    from advisor_bot.index.embedding import SentenceEmbedder
    from advisor_bot.index.onnx_encoder import OnnxEmbedder

    if isinstance(embedder, SentenceEmbedder):
        return "torch"
    if isinstance(embedder, OnnxEmbedder):
        return "onnx"
    return str(getattr(embedder, "backend", type(embedder).__name__))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    """A markdown-style table: the first column left-aligned, the others right-aligned (numbers).
    Cells are printed as given (format numbers before passing them); None prints as "-". The
    title is a line of its own above the table (rich would wrap it to the table's width)."""
    if title:
        note(title)
    table = Table(box=box.MARKDOWN)
    for i, head in enumerate(headers):
        table.add_column(head, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*("-" if cell is None else str(cell) for cell in row))
    console.print(table)
