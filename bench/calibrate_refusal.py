"""How answer.partial_threshold, answer.answered_threshold and the two penalties were chosen.

    python bench/calibrate_refusal.py [--questions bench/calibration/questions.jsonl]
                                      [--check ../shared/eval/dev.jsonl] [--max-false-refusals 0.03]

For every question of the calibration set (answerable, near-topic and off-topic; see
bench/calibration/README.md) the product's own pipeline makes the query, retrieves and computes
the relevance signals (answer/relevance.py). Then, for each pair of penalties on a grid:
partial_threshold is the highest value that refuses at most --max-false-refusals of the
answerable questions; the pair refusing the most near- and off-topic questions wins (ties: the
smaller penalties). answered_threshold is set so that --answered-share of the answerable
questions get a full answer. The calibration curve and the dev set's figures at the chosen
values are printed; nothing is tuned on the dev set.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table

from advisor_bot import Advisor, Query, Settings
from advisor_bot.answer.relevance import Signals, signals

ROOT = Path(__file__).resolve().parents[1]
CALIBRATION = ROOT / "bench" / "calibration" / "questions.jsonl"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
OOV_GRID = np.round(np.arange(0.0, 2.01, 0.25), 2)
QUANTITY_GRID = np.round(np.arange(0.0, 0.61, 0.05), 2)


def load(path: Path, kind_of: dict[str, str]) -> list[dict]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            rows.append(
                {"question": d["question"], "history": d.get("history", []), "type": kind_of.get(d["type"], d["type"])}
            )
    return rows


def measure(bot: Advisor, rows: list[dict]) -> list[Signals]:
    pipe = bot.pipeline
    out = []
    for r in rows:
        timings: dict[str, float] = {}
        query = pipe.make_query(Query(question=r["question"], history=tuple(r["history"])), "extractive", timings)
        retriever = pipe.searcher.retriever()
        passages = pipe.retrieve(retriever, query, None, timings)
        out.append(
            signals(
                query, passages, retriever.index.bm25, bot.embedder, bot.settings.answer, names=retriever.author_words
            )
        )
    return out


def scores(sig: list[Signals], oov: float, quantity: float) -> np.ndarray:
    return np.array([s.best - oov * s.central_unknown - quantity * s.quantity_gap for s in sig])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, default=CALIBRATION)
    parser.add_argument("--check", type=Path, default=DEV)
    parser.add_argument("--max-false-refusals", type=float, default=0.03)
    parser.add_argument("--answered-share", type=float, default=0.85)
    args = parser.parse_args()

    bot = Advisor.load(Settings.load(ROOT))
    cal = load(args.questions, {})
    dev = (
        load(args.check, {"unanswerable": "unanswerable", "adversarial": "adversarial"}) if args.check.is_file() else []
    )
    for r in dev:
        if r["type"] not in ("unanswerable", "adversarial"):
            r["type"] = "answerable"
    cal_sig, dev_sig = measure(bot, cal), measure(bot, dev)
    kinds = np.array([r["type"] for r in cal])
    dev_kinds = np.array([r["type"] for r in dev])
    answerable, negative = kinds == "answerable", kinds != "answerable"

    best: tuple[float, float, float, float] | None = None  # refused negatives, oov, quantity, threshold
    for oov in OOV_GRID:
        for quantity in QUANTITY_GRID:
            s = scores(cal_sig, oov, quantity)
            threshold = float(np.quantile(s[answerable], args.max_false_refusals, method="lower"))
            refused = float((s[negative] < threshold).mean())
            if best is None or refused > best[0] + 1e-9:
                best = (refused, float(oov), float(quantity), threshold)
    assert best is not None
    _, oov, quantity, partial = best
    s = scores(cal_sig, oov, quantity)
    answered = max(float(np.quantile(s[answerable], 1 - args.answered_share, method="lower")), partial)
    ds = scores(dev_sig, oov, quantity) if dev else np.zeros(0)

    console = Console(width=200, highlight=False)
    console.print(
        f"{len(cal)} calibration questions ({int(answerable.sum())} answerable, "
        f"{int((kinds == 'near_topic').sum())} near-topic, {int((kinds == 'off_topic').sum())} off-topic), "
        f"{len(dev)} dev questions; index {bot.index.version}"
    )
    console.print(
        f"chosen: oov_penalty={oov} quantity_penalty={quantity} partial_threshold={partial:.3f} "
        f"answered_threshold={answered:.3f}"
    )

    table = Table(title="calibration curve (share refused = relevance below the threshold)", box=box.MARKDOWN)
    for head in ("partial_threshold", "answerable", "near-topic", "off-topic", "dev answerable", "dev unanswerable"):
        table.add_column(head, justify="right")
    for t in sorted({round(x, 2) for x in np.arange(-0.1, 0.61, 0.05)} | {round(partial, 3)}):
        row = [f"{t:.3f}" + (" *" if abs(t - partial) < 1e-6 else "")]
        row += [f"{(s[kinds == k] < t).mean():.3f}" for k in ("answerable", "near_topic", "off_topic")]
        row += [
            f"{(ds[dev_kinds == k] < t).mean():.3f}" if (dev_kinds == k).any() else "-"
            for k in ("answerable", "unanswerable")
        ]
        table.add_row(*row)
    console.print(table)

    outcome = Table(title="outcomes at the chosen values", box=box.MARKDOWN)
    for head in ("set", "type", "n", "answered", "partial", "refused"):
        outcome.add_column(head)
    for name, values, types in (("calibration", s, kinds), ("dev", ds, dev_kinds)):
        for k in sorted(set(types)):
            v = values[types == k]
            outcome.add_row(
                name,
                k,
                str(len(v)),
                f"{(v >= answered).mean():.3f}",
                f"{((v >= partial) & (v < answered)).mean():.3f}",
                f"{(v < partial).mean():.3f}",
            )
    console.print(outcome)


if __name__ == "__main__":
    main()
