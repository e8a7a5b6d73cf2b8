"""Where the time of a question goes: condense / embed / dense / BM25 / fusion / MMR / generation,
and the query encoder alone on each backend with 1 and 2 threads.

    python bench/latency.py [QUESTIONS.jsonl] [--generator extractive] [--repeats 3] [--busy 0,1,2]

Every dev question (with its history) is asked once through Advisor.ask (the app's path) with
the query cache off (embedding.query_cache_size=0, so the embedding is really measured), after
one warm-up; the first table gives p50 and p95 of each stage of Answer.timings (retrieve holds
embed-free search: dense, bm25, fusion, mmr; total is the whole answer).

Then the query encoder alone: one embedder per backend and thread count (embedding.backend
"torch", sentence-transformers, and the default "auto", which runs the model exported to ONNX
into index/encoders/; embedding.query_threads 1 and 2), each warmed up, encoding every
condensed dev question --repeats times, all four interleaved question by question so machine
noise hits them alike; with --busy, once per count of processes spinning on a core beside it
(a loaded machine). When index/encoders/ holds no export yet, the project's index is synced
first (`Advisor.build_index()`, what `advisor-bot index` does: it exports the model and
re-embeds nothing that is up to date).

Last, what a repeated question costs with the query cache on (the default).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchlib import DEV_QUESTIONS, ROOT, encoder_backend, machine, median, note, percentile, print_table

from advisor_bot import Advisor, Settings
from advisor_bot.answer.condense import condense
from advisor_bot.evaluation import load_questions
from advisor_bot.index.embedding import Embedder, make_embedder

STAGES = ("condense", "embed", "dense", "bm25", "fusion", "mmr", "retrieve", "generate", "total")
BACKENDS = {"torch": "torch", "onnx": "auto"}  # label -> embedding.backend
THREADS = (1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--generator", default="extractive")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--busy",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[0],
        help="comma-separated counts of spinning processes to run beside the encoder table, e.g. 0,1,2",
    )
    args = parser.parse_args()

    settings = Settings.load(ROOT, overrides={"embedding.query_cache_size": 0})
    bot = Advisor.load(settings, say=lambda m: print(m, file=sys.stderr))
    if encoder_backend(bot.embedder) != "onnx" and settings.embedding.backend == "auto":
        print("no ONNX export in the index folder yet: syncing the index to make it ...", file=sys.stderr)
        print(bot.build_index().summary(), file=sys.stderr)
    questions = load_questions(args.questions)

    bot.ask("warm up: how do I read papers?", generator=args.generator)
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    for q in questions:
        answer = bot.ask(q.question, list(q.history), generator=args.generator)
        for s in STAGES:
            if s in answer.timings:
                per_stage[s].append(answer.timings[s])
    note(
        f"{len(questions)} dev questions, generator {args.generator}, index {bot.index.version} "
        f"({len(bot.index)} chunks), {encoder_backend(bot.embedder)} query encoder with "
        f"{settings.embedding.query_threads} thread(s), query cache off; {machine()}"
    )
    print_table(
        ["stage", "p50 ms", "p95 ms", "n"],
        [[s, f"{1000 * median(v):.2f}", f"{1000 * percentile(v, 95):.2f}", len(v)] for s, v in per_stage.items() if v],
        title="a question, stage by stage (Answer.timings)",
    )

    embedders: dict[tuple[str, int], Embedder] = {}
    for label, backend in BACKENDS.items():
        for n in THREADS:
            s = settings.with_overrides(**{"embedding.backend": backend, "embedding.query_threads": n})
            embedder = make_embedder(s.embedding, s.index_path)
            if encoder_backend(embedder) != label:
                print(
                    f"the {label} encoder is not available here ({encoder_backend(embedder)}); skipped", file=sys.stderr
                )
                continue
            for _ in range(3):
                embedder.encode_query("warm up the encoder")
            embedders[(label, n)] = embedder
    queries = [condense(q.question, q.history) for q in questions]
    rows = []
    for busy in args.busy:
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            time.sleep(0.5 if busy else 0)
            times: dict[tuple[str, int], list[float]] = {key: [] for key in embedders}
            for _ in range(args.repeats):
                for text in queries:
                    for key, embedder in embedders.items():
                        t = time.perf_counter()
                        embedder.encode_query(text)
                        times[key].append(time.perf_counter() - t)
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        rows += [
            [busy, label, n, f"{1000 * median(ts):.2f}", f"{1000 * percentile(ts, 95):.2f}"]
            for (label, n), ts in times.items()
        ]
    print_table(
        ["busy cores", "backend", "threads", "p50 ms", "p95 ms"],
        rows,
        title=f"query encoding alone: {len(queries)} queries x {args.repeats}, interleaved, cache off; "
        "busy cores = processes spinning beside it",
    )

    cached = Advisor(settings.with_overrides(**{"embedding.query_cache_size": 1024}))
    cached.ask(questions[0].question, generator=args.generator)
    answer = cached.ask(questions[0].question, generator=args.generator)
    note(
        f"repeated question with the query cache on (the default): total {1000 * answer.timings['total']:.1f} ms, "
        f"embed {1000 * answer.timings.get('embed', float('nan')):.2f} ms"
    )


if __name__ == "__main__":
    main()
