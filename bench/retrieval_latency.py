"""Query latency of dense, BM25 and hybrid retrieval on the essay corpus, same process.

    python bench/retrieval_latency.py [QUESTIONS.jsonl] [--repeats 5]

Every dev question is searched in each mode, modes interleaved per question so that machine
noise hits them alike. Query embeddings are cached first (the app caches them too), so the
table compares search + fusion + scoring; the embed cost is printed separately.
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
MODES = ("dense", "bm25", "hybrid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    bot = Advisor.load()
    queries = [condense(q.question, list(q.history)) for q in load_questions(args.questions)]
    embed = []
    for q in queries:
        t = time.perf_counter()
        bot.embedder.encode_query(q)
        embed.append(time.perf_counter() - t)
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(args.repeats):
        for q in queries:
            for mode in MODES:
                t = time.perf_counter()
                bot.retriever.search(q, bot.settings.top_k, mode=mode, mmr=False)
                times[mode].append(time.perf_counter() - t)
    dense_p50 = statistics.median(times["dense"])
    print(
        f"{len(queries)} queries x {args.repeats}, index {bot.index.version} ({len(bot.index)} chunks, "
        f"{bot.index.unit_index.ntotal if bot.index.unit_index is not None else 0} sentence units)"
    )
    print(f"{'mode':8s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 - dense':>12s}")
    for mode in MODES:
        ts = sorted(times[mode])
        p50, p95 = statistics.median(ts), ts[round(0.95 * (len(ts) - 1))]
        print(f"{mode:8s} {1000 * p50:8.2f} {1000 * p95:8.2f} {1000 * (p50 - dense_p50):+11.2f}")
    print(f"query embedding (uncached, once per question): p50 {1000 * statistics.median(embed):.1f} ms")


if __name__ == "__main__":
    main()
