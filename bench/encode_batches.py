"""How the build encoder should batch: texts per batch against padded tokens per batch.

    python bench/encode_batches.py [--abstracts 400] [--repeats 3]

Encodes two kinds of text the index embeds, each with several batch limits, alternating
settings within each repeat: long passages (the first SciFact abstracts with their titles, about
250 tokens) and the project's own sentence units (about 30 tokens). Prints the median seconds per
setting and the ratio to the old fixed batches of 32 texts. The vectors are the same whatever the
batching (checked here to 1e-5), so only time is compared.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from benchlib import ROOT, machine, median, note, print_table, ratio

from advisor_bot.index.embedding import make_embedder
from advisor_bot.index.store import IndexStore
from advisor_bot.settings import Settings

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact" / "corpus.jsonl"
# (texts per batch, padded tokens per batch): the old fixed batches, then token budgets
LIMITS = [(32, 1_000_000), (4, 1_000_000), (32, 256), (32, 512), (32, 1024), (32, 2048)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--abstracts", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    settings = Settings(root=ROOT)
    with SCIFACT.open(encoding="utf-8") as f:
        docs = [json.loads(line) for _, line in zip(range(args.abstracts), f, strict=False)]
    passages = [f"{d.get('title', '')}\n{d['text']}" for d in docs]
    loaded = IndexStore(settings.index.dir, settings.index, settings.chunking).open()
    sentences = [u.text for c in loaded.chunks for u in c.units]
    kinds = {"abstracts": passages, "sentence units": sentences}

    embedders = {
        limit: make_embedder(
            settings.embedding.model_copy(update={"batch_size": limit[0], "batch_tokens": limit[1]}),
            Path(settings.index.dir),
        )
        for limit in LIMITS
    }
    times: dict[tuple[str, tuple[int, int]], list[float]] = {}
    reference: dict[str, np.ndarray] = {}
    for embedder in embedders.values():
        embedder.encode(sentences[:8])  # sessions open before timing
    for _ in range(args.repeats):
        for kind, texts in kinds.items():
            for limit, embedder in embedders.items():
                started = time.perf_counter()
                vectors = embedder.encode(texts)
                times.setdefault((kind, limit), []).append(time.perf_counter() - started)
                if kind not in reference:
                    reference[kind] = vectors
                else:
                    np.testing.assert_allclose(vectors, reference[kind], atol=1e-5)

    note(
        f"{len(passages)} SciFact abstracts, {len(sentences)} sentence units of corpus/; {args.repeats} repeats, "
        f"settings alternating; backend {type(next(iter(embedders.values()))).__name__}; {machine()}"
    )
    rows = []
    for kind in kinds:
        base = median(times[(kind, LIMITS[0])])
        for limit in LIMITS:
            took = median(times[(kind, limit)])
            tokens = "no limit" if limit[1] >= 1_000_000 else str(limit[1])
            rows.append([kind, limit[0], tokens, f"{took:.2f}", ratio(took, base)])
    print_table(["texts", "batch_size", "batch_tokens", "median s", "vs 32 texts"], rows)


if __name__ == "__main__":
    main()
