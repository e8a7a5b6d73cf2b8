"""Run the product's own retriever over a BEIR-format dataset and print a table.

    python bench/beir.py ../shared/bench/scifact [--split test] [--modes dense,bm25,hybrid]
                         [--set KEY=VALUE ...] [--index-dir DIR] [--json OUT]

The dataset folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Its documents
are indexed by the same IndexStore (chunking, sentence units, FAISS, BM25) and searched by
the same Retriever the app uses, with the app's settings unless --set changes one; nothing
here is tuned for a particular dataset. A document's rank is that of its best chunk.
The index is cached (default ~/.cache/advisor-bot/beir/<dataset>) and reused while the
corpus and settings are unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import statistics
import sys
import time
from pathlib import Path

from advisor_bot import Advisor
from advisor_bot.records import Document
from advisor_bot.settings import Settings, parse_assignments

ROOT = Path(__file__).resolve().parents[1]


def load_beir(folder: Path, split: str) -> tuple[list[Document], dict[str, str], dict[str, dict[str, int]]]:
    docs: list[Document] = []
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = row.get("text") or ""
            docs.append(
                Document(
                    doc_id=str(row["_id"]),
                    title=(row.get("title") or "").strip() or str(row["_id"]),
                    text=text,
                    path=f"{folder.name}/corpus.jsonl",
                    sha256=hashlib.sha256(f"{row.get('title')}\x1f{text}".encode()).hexdigest(),
                    kind="beir",
                )
            )
    queries: dict[str, str] = {}
    with open(folder / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, int]] = {}
    with open(folder / "qrels" / f"{split}.tsv", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            qid, did, score = parts[0], parts[1], int(parts[-1])
            qrels.setdefault(qid, {})[did] = score
    return docs, queries, qrels


def ndcg_at(ranked: list[str], rel: dict[str, int], k: int) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)[:k]
    idcg = sum(v / math.log2(i + 2) for i, v in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: list[str], rel: dict[str, int], k: int) -> float:
    relevant = {d for d, v in rel.items() if v > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def rr_at(ranked: list[str], rel: dict[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if rel.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--modes", default="dense,bm25,hybrid")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--json", dest="json_out", type=Path, default=None)
    args = parser.parse_args()

    folder = args.dataset.resolve()
    docs, queries, qrels = load_beir(folder, args.split)
    index_dir = args.index_dir or Path.home() / ".cache" / "advisor-bot" / "beir" / folder.name
    settings = Settings.load(ROOT, **parse_assignments(args.sets), index_dir=index_dir)
    bot = Advisor(settings)
    t0 = time.perf_counter()
    report = bot.store.build(
        docs, bot.embedder, progress=sys.stderr.isatty(), on_stage=lambda s: print(f"[{s}]", file=sys.stderr)
    )
    print(
        f"{folder.name}: {len(docs)} documents, {report.chunks} chunks, index "
        f"{'reused' if report.up_to_date else 'built'} in {time.perf_counter() - t0:.1f}s "
        f"({report.embedded} chunks embedded)",
        file=sys.stderr,
    )

    qids = [q for q in sorted(qrels) if q in queries]
    bot.embedder.encode_query("warm up")
    for q in qids:  # embed every query once so the timings below compare search, not cache misses
        bot.embedder.encode_query(queries[q])
    rows = []
    for mode in args.modes.split(","):
        nd, rc, rr, secs = [], [], [], []
        for q in qids:
            timings: dict[str, float] = {}
            start = time.perf_counter()
            passages = bot.retriever.search(queries[q], 3 * args.k, mode=mode, mmr=False, timings=timings)
            secs.append(time.perf_counter() - start)
            ranked = list(dict.fromkeys(p.document.doc_id for p in passages))
            nd.append(ndcg_at(ranked, qrels[q], args.k))
            rc.append(recall_at(ranked, qrels[q], args.k))
            rr.append(rr_at(ranked, qrels[q], args.k))
        rows.append(
            {
                "mode": mode,
                f"ndcg@{args.k}": statistics.mean(nd),
                f"recall@{args.k}": statistics.mean(rc),
                f"mrr@{args.k}": statistics.mean(rr),
                "p50_ms": 1000 * statistics.median(secs),
                "p95_ms": 1000 * percentile(secs, 0.95),
            }
        )
    k = args.k
    print(
        f"{folder.name} ({args.split}): {len(qids)} queries, {len(docs)} documents; "
        f"settings rrf_k={settings.rrf_k} bm25_weight={settings.bm25_weight} unit_weight={settings.unit_weight}"
    )
    print(
        f"{'mode':8s} {'nDCG@' + str(k):>9s} {'Recall@' + str(k):>10s} {'MRR@' + str(k):>8s} "
        f"{'p50 ms':>8s} {'p95 ms':>8s}"
    )
    for r in rows:
        print(
            f"{r['mode']:8s} {r[f'ndcg@{k}']:9.4f} {r[f'recall@{k}']:10.4f} {r[f'mrr@{k}']:8.4f} "
            f"{r['p50_ms']:8.2f} {r['p95_ms']:8.2f}"
        )
    print("(query embeddings cached before timing: the times are search, fusion and scoring only)")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
