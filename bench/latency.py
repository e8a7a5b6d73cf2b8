"""Where the time of a question goes: condense / embed / dense / BM25 / fusion / MMR / generation.

    python bench/latency.py [QUESTIONS.jsonl] [--generator extractive] [--repeats 3]

Every dev question is asked through Advisor.ask (the app's path) with the query cache off for
the first pass (so embedding is really measured) and on afterwards (what a repeated question
costs). Then the query encoder alone with 1 and with 2 torch threads, interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from advisor_bot import Advisor
from advisor_bot.condense import condense
from advisor_bot.evaluation import load_questions

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev.jsonl"
STAGES = ("condense", "embed", "dense", "bm25", "fusion", "mmr", "retrieve", "generate", "total")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[round(q * (len(s) - 1))] if s else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--generator", default="extractive")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    bot = Advisor.load(query_cache_size=0)
    questions = load_questions(args.questions)
    bot.ask("warm up", generator=args.generator)
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    for q in questions:
        ans = bot.ask(q.question, list(q.history), generator=args.generator)
        for s in STAGES:
            if s in ans.timings:
                per_stage[s].append(ans.timings[s])
    print(
        f"{len(questions)} dev questions, generator={args.generator}, index {bot.index.version} "
        f"({len(bot.index)} chunks), query cache off"
    )
    print(f"{'stage':10s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for s in STAGES:
        if per_stage[s]:
            print(f"{s:10s} {1000 * statistics.median(per_stage[s]):8.2f} {1000 * pct(per_stage[s], 0.95):8.2f}")

    queries = [condense(q.question, list(q.history)) for q in questions]
    threads: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.repeats):
        for text in queries:
            for n in (1, 2):
                bot.embedder.query_threads = n  # type: ignore[attr-defined]
                t = time.perf_counter()
                bot.embedder.encode_query(text)
                threads[n].append(time.perf_counter() - t)
    print(f"\nquery encoding alone, {len(queries)} queries x {args.repeats}, interleaved:")
    print(f"{'threads':10s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for n, ts in threads.items():
        print(f"{n:<10d} {1000 * statistics.median(ts):8.2f} {1000 * pct(ts, 0.95):8.2f}")

    cached = Advisor(bot.settings.with_overrides(query_cache_size=1024))
    cached.ask(questions[0].question)
    t = time.perf_counter()
    cached.ask(questions[0].question)
    print(f"\nrepeated question with the query cache on (the default): total {1000 * (time.perf_counter() - t):.1f} ms")


if __name__ == "__main__":
    main()
