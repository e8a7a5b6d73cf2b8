"""Run the product's own retriever over a BEIR-format dataset and print a table.

    python bench/beir.py ../shared/bench/scifact [--split test] [--modes dense,bm25,hybrid]
                         [--set KEY=VALUE ...] [--index-dir DIR] [--json OUT]

The dataset folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv. Its documents
are indexed by the same IndexStore (chunking, sentence units, FAISS, BM25) and searched by
the same Retriever the app uses, with the app's settings unless --set changes one; nothing
here is tuned for a particular dataset. A document's rank is that of its best chunk.
The index is cached (--index-dir, else --set index.dir=..., else
~/.cache/advisor-bot/beir/<dataset>) and reused while the corpus and settings are unchanged.

Prints the dataset, the index build time (or that it was reused) and the retrieval settings,
then one row per mode: nDCG@10, Recall@10 and MRR@10 (k from --k), and p50/p95 ms of one search
(query vectors computed before timing). --json writes the same numbers to a file.
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

from advisor_bot import Advisor, Document
from advisor_bot.settings import Settings, parse_assignments


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
    # here, not at the top: tests import this file (loader and metrics) without bench/ on the path
    from benchlib import ROOT, encoder_backend, machine, median, note, percentile, print_table

    folder = args.dataset.resolve()
    docs, queries, qrels = load_beir(folder, args.split)
    overrides: dict[str, str] = parse_assignments(args.sets)
    default_dir = Path(overrides.get("index.dir") or Path.home() / ".cache" / "advisor-bot" / "beir" / folder.name)
    index_dir = (args.index_dir or default_dir).expanduser().resolve()
    overrides["index.dir"] = str(index_dir)
    settings = Settings.load(ROOT, overrides=overrides)
    bot = Advisor(settings)
    t0 = time.perf_counter()
    report = bot.store.build(
        docs, bot.embedder, progress=sys.stderr.isatty(), on_stage=lambda s: print(f"[{s}]", file=sys.stderr)
    )
    build_seconds = time.perf_counter() - t0
    retriever = bot.pipeline.searcher.retriever()

    qids = [q for q in sorted(qrels) if q in queries]
    bot.embedder.encode_query("warm up")
    # every query encoded once, before timing: the times below compare search, not the encoder
    vectors = {q: bot.embedder.encode_query(queries[q]) for q in qids}
    rows = []
    k = args.k
    for mode in args.modes.split(","):
        retriever.search("warm up", 3 * k, mode=mode, mmr=False, qvec=vectors[qids[0]])
        nd, rc, rr, secs = [], [], [], []
        for q in qids:
            start = time.perf_counter()
            passages = retriever.search(queries[q], 3 * k, mode=mode, mmr=False, qvec=vectors[q])
            secs.append(time.perf_counter() - start)
            ranked = list(dict.fromkeys(p.document.doc_id for p in passages))
            nd.append(ndcg_at(ranked, qrels[q], k))
            rc.append(recall_at(ranked, qrels[q], k))
            rr.append(rr_at(ranked, qrels[q], k))
        rows.append(
            {
                "mode": mode,
                f"ndcg@{k}": statistics.mean(nd),
                f"recall@{k}": statistics.mean(rc),
                f"mrr@{k}": statistics.mean(rr),
                "p50_ms": 1000 * median(secs),
                "p95_ms": 1000 * percentile(secs, 95),
            }
        )
    r = settings.retrieval
    note(
        f"{folder.name} ({args.split}): {len(qids)} queries, {len(docs)} documents, {report.chunks} chunks; index "
        f"{'reused' if report.up_to_date else 'built'} in {build_seconds:.1f} s ({report.embedded} chunks embedded) "
        f"in {index_dir}"
    )
    note(
        f"settings: rrf_k={r.rrf_k} dense_weight={r.dense_weight} bm25_weight={r.bm25_weight} "
        f"unit_weight={r.unit_weight} candidate_depth={r.candidate_depth}; encoder "
        f"{encoder_backend(bot.embedder)}; {machine()}"
    )
    print_table(
        ["mode", f"nDCG@{k}", f"Recall@{k}", f"MRR@{k}", "p50 ms", "p95 ms"],
        [
            [
                row["mode"],
                f"{row[f'ndcg@{k}']:.4f}",
                f"{row[f'recall@{k}']:.4f}",
                f"{row[f'mrr@{k}']:.4f}",
                f"{row['p50_ms']:.2f}",
                f"{row['p95_ms']:.2f}",
            ]
            for row in rows
        ],
    )
    note("(query vectors computed before timing: the times are search, fusion and scoring only)")
    if args.json_out:
        out = {"dataset": folder.name, "split": args.split, "build_seconds": build_seconds, "modes": rows}
        args.json_out.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
