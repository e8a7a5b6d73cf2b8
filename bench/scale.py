"""Vector search at 10k, 100k and 1M chunks: exact versus the store's HNSW, same process.

    python bench/scale.py [--sizes 10000,100000,1000000] [--queries 200] [--kind clustered|random]

Vectors are synthetic unit vectors of the embedding size (384): by default drawn around 2,000
random centres with noise (text embeddings cluster by topic; uniformly random vectors in 384
dimensions have no near neighbours to find, the worst case for any ANN index, kept as
--kind random). Queries are perturbed corpus vectors. Both indexes are built by the product's
own index.vectors.build_vector_index with the index settings (IndexSettings; exact search forced
by ann_threshold=n+1, HNSW by ann_threshold=0) and searched by index.vectors.search, one query at
a time like the app. Recall@10 is against the exact result. Memory is the growth of this
process's resident set while building. Query encoding is not included.

Prints one table row per size and index (build s, memory MB, p50 and p95 ms, recall@10) once
all sizes are done; each row is also written to stderr as it finishes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from benchlib import machine, median, note, percentile, print_table

from advisor_bot.index import vectors as vector_ops
from advisor_bot.settings import IndexSettings

DIM = 384


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def corpus(n: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "random":
        return unit(rng.standard_normal((n, DIM), dtype=np.float32))
    centres = unit(rng.standard_normal((2000, DIM), dtype=np.float32))
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks, to keep the peak memory down
        stop = min(n, start + 100_000)
        which = rng.integers(0, len(centres), stop - start)
        out[start:stop] = unit(centres[which] + 0.06 * rng.standard_normal((stop - start, DIM), dtype=np.float32))
    return out


def timed_search(index: object, queries: np.ndarray, k: int) -> tuple[list[float], list[np.ndarray]]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        rows, _ = vector_ops.search(index, q, k)
        times.append(time.perf_counter() - t)
        found.append(rows)
    return times, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--kind", choices=("clustered", "random"), default="clustered")
    parser.add_argument("--ef-search", type=int, default=None, help="override index.hnsw_ef_search")
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    config = IndexSettings()
    if args.ef_search:
        config = IndexSettings(**{**config.model_dump(), "hnsw_ef_search": args.ef_search})
    rows: list[list[str]] = []
    for n in [int(s) for s in args.sizes.split(",")]:
        data = corpus(n, args.kind, rng)
        picks = rng.integers(0, n, args.queries)
        queries = unit(data[picks] + 0.03 * rng.standard_normal((args.queries, DIM), dtype=np.float32))
        exact_found: list[np.ndarray] = []
        for kind, threshold in (("flat", n + 1), ("hnsw", 0)):
            cfg = config.model_copy(update={"ann_threshold": threshold})
            before = rss_mb()
            t = time.perf_counter()
            index = vector_ops.build_vector_index(data, cfg)
            build = time.perf_counter() - t
            mem = rss_mb() - before
            timed_search(index, queries[:10], 10)  # warm up
            times, found = timed_search(index, queries, 10)
            if kind == "flat":
                exact_found = found
                recall = 1.0
            else:
                recall = statistics.mean(
                    len(set(a.tolist()) & set(b.tolist())) / 10 for a, b in zip(found, exact_found, strict=True)
                )
            row = [
                f"{n:,d}",
                kind,
                f"{build:.1f}",
                f"{mem:.0f}",
                f"{1000 * median(times):.2f}",
                f"{1000 * percentile(times, 95):.2f}",
                f"{recall:.3f}",
            ]
            rows.append(row)
            print("  ".join(row), file=sys.stderr, flush=True)
            del index
        del data
    note(
        f"{args.kind} unit vectors, d={DIM}, {args.queries} single queries, k=10; HNSW M={config.hnsw_m} "
        f"efConstruction={config.hnsw_ef_construction} efSearch={config.hnsw_ef_search}; "
        f"store switches to HNSW above index.ann_threshold={config.ann_threshold:,}; {machine()}"
    )
    print_table(["chunks", "index", "build s", "mem MB", "p50 ms", "p95 ms", "recall@10"], rows)


if __name__ == "__main__":
    main()
