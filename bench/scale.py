"""Vector search at 10k, 100k and 1M chunks: exact versus the store's HNSW, same process.

    python bench/scale.py [--sizes 10000,100000,1000000] [--queries 200] [--kind clustered|random]

Vectors are synthetic unit vectors of the embedding size (384): by default drawn around 2,000
random centres with noise (text embeddings cluster by topic; uniformly random vectors in 384
dimensions have no near neighbours to find, the worst case for any ANN index, kept as
--kind random). Queries are perturbed corpus vectors. Both indexes are built by the product's
own vectors.build_vector_index (HNSW forced by ann_threshold=0) and searched by vectors.search,
one query at a time like the app. Recall@10 is against the exact result. Memory is the growth of
this process's resident set while building. Query encoding is not included.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import numpy as np

from advisor_bot import vectors as vector_ops
from advisor_bot.vectors import VectorIndexConfig

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
    parser.add_argument("--ef-search", type=int, default=None, help="override hnsw_ef_search")
    args = parser.parse_args()

    rng = np.random.default_rng(7)
    config = VectorIndexConfig()
    if args.ef_search:
        config = replace(config, hnsw_ef_search=args.ef_search)
    print(
        f"{args.kind} unit vectors, d={DIM}, {args.queries} single queries, k=10; HNSW M={config.hnsw_m} "
        f"efConstruction={config.hnsw_ef_construction} efSearch={config.hnsw_ef_search}; "
        f"store switches to HNSW above ann_threshold={config.ann_threshold:,}"
    )
    print(
        f"{'chunks':>9s} {'index':6s} {'build s':>8s} {'mem MB':>8s} {'p50 ms':>8s} {'p95 ms':>8s} {'recall@10':>10s}"
    )
    for n in [int(s) for s in args.sizes.split(",")]:
        data = corpus(n, args.kind, rng)
        picks = rng.integers(0, n, args.queries)
        queries = unit(data[picks] + 0.03 * rng.standard_normal((args.queries, DIM), dtype=np.float32))
        exact_found: list[np.ndarray] = []
        for kind, cfg in (("flat", replace(config, ann_threshold=n + 1)), ("hnsw", replace(config, ann_threshold=0))):
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
            ts = sorted(times)
            print(
                f"{n:9,d} {kind:6s} {build:8.1f} {mem:8.0f} {1000 * statistics.median(ts):8.2f} "
                f"{1000 * ts[round(0.95 * (len(ts) - 1))]:8.2f} {recall:10.3f}",
                flush=True,
            )
            del index
        del data


if __name__ == "__main__":
    main()
