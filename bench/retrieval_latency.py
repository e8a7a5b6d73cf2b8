"""Query latency of dense, BM25 and hybrid retrieval on the essay corpus, same process.

    python bench/retrieval_latency.py [QUESTIONS.jsonl] [--repeats 5]

Every dev question (condensed with its history, as the app does) is searched in each mode by
the Retriever of the live index, k = retrieval.top_k, MMR off, modes interleaved per question
so that machine noise hits them alike. Each query is encoded once first and its vector passed
in (`qvec`, as the pipeline does), so the table compares search + fusion + scoring: p50, p95
and the p50 difference to dense. The encoding cost (first encoding of each question, after a
warm-up) is printed separately.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchlib import DEV_QUESTIONS, ROOT, encoder_backend, machine, median, note, percentile, print_table

from advisor_bot import Advisor, Settings
from advisor_bot.answer.condense import condense
from advisor_bot.evaluation import load_questions

MODES = ("dense", "bm25", "hybrid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    bot = Advisor.load(Settings.load(ROOT))
    retriever = bot.pipeline.searcher.retriever()
    k = bot.settings.retrieval.top_k
    queries = [condense(q.question, q.history) for q in load_questions(args.questions)]
    for _ in range(3):
        bot.embedder.encode_query("warm up the encoder")
    embed, vectors = [], []
    for q in queries:
        t = time.perf_counter()
        vectors.append(bot.embedder.encode_query(q))
        embed.append(time.perf_counter() - t)
    for mode in MODES:
        retriever.search(queries[0], k, mode=mode, mmr=False, qvec=vectors[0])
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(args.repeats):
        for q, v in zip(queries, vectors, strict=True):
            for mode in MODES:
                t = time.perf_counter()
                retriever.search(q, k, mode=mode, mmr=False, qvec=v)
                times[mode].append(time.perf_counter() - t)
    index = retriever.index
    units = index.unit_index.ntotal if index.unit_index is not None else 0
    note(
        f"{len(queries)} queries x {args.repeats}, k={k}, index {index.version} ({len(index)} chunks, "
        f"{units} sentence units, {index.manifest.get('index_type')}); {machine()}"
    )
    dense_p50 = median(times["dense"])
    print_table(
        ["mode", "p50 ms", "p95 ms", "p50 - dense ms"],
        [
            [
                mode,
                f"{1000 * median(ts):.2f}",
                f"{1000 * percentile(ts, 95):.2f}",
                f"{1000 * (median(ts) - dense_p50):+.2f}",
            ]
            for mode, ts in times.items()
        ],
    )
    backend = encoder_backend(bot.embedder)
    note(
        f"query encoding ({backend}, {bot.settings.embedding.query_threads} thread(s), once per question): "
        f"p50 {1000 * median(embed):.2f} ms, p95 {1000 * percentile(embed, 95):.2f} ms"
    )


if __name__ == "__main__":
    main()
