"""One question's encoding, by threads and by whether the encoder's threads spin, idle and busy.

    python bench/query_encoding.py [--busy 0,1,2] [--repeats 5] [--rounds 2] [--pause 0.05] [--unfused]

Each setting runs in its own fresh process (so one session's spinning threads never steal time
from another's), encoding every dev question `--repeats` times with a pause between questions
(`--pause`, 2 ms by default; bench/compare.py pauses 50 ms, and after 20 ms or more an idle
core has gone to sleep, which sleeping threads pay for at every wake-up); settings alternate, `--rounds` times each. "busy" counts
processes spinning on a core beside it (a loaded server, a build, a browser). Prints the median
of the per-round p50s and p95s. This is what `embedding.query_threads` and
`embedding.query_spinning` are chosen from.

--unfused also exports the model as it was before 2026-12-07 (SDPA attention traced as is,
which neither onnxruntime nor its optimizer fuses into Attention nodes) and times it the same
way, each of its settings right after the fused one's: the "encoder" column compares the two in
one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import DEV_QUESTIONS, machine, median, note, percentile, print_table

CONFIGS: list[tuple[int, bool | str]] = [(1, False), (2, False), (1, True), (2, True), (2, "auto")]
# (query_threads, query_spinning)

CHILD = """
import json, sys, time
from advisor_bot import Settings
from advisor_bot.index.embedding import make_embedder
threads, repeats, pause = int(sys.argv[1]), int(sys.argv[3]), float(sys.argv[5])
spinning = {"1": True, "0": False}.get(sys.argv[2], sys.argv[2])
questions = json.loads(sys.stdin.read())
s = Settings().with_overrides(**{"embedding.query_threads": threads, "embedding.query_spinning": spinning,
                                 "embedding.query_cache_size": 0})
encoder = make_embedder(s.embedding, s.index_path)
if sys.argv[4]:  # another export of the same model, run the same way
    from pathlib import Path
    from advisor_bot.index.onnx_encoder import OnnxEmbedder
    impl = encoder._current()
    encoder = OnnxEmbedder(impl.name, impl.model_dir, Path(sys.argv[4]), s.embedding)
impl = encoder._current() if hasattr(encoder, "_current") else encoder
for spins in (False, True):  # both sessions built before timing ("auto" builds the second when first needed)
    if hasattr(impl, "_session"):  # the ONNX encoder (this bench times nothing else)
        impl._session(impl._query_threads(), spinning=spins)
for _ in range(5):
    encoder.encode_query("warm up the encoder")
times = []
for _ in range(repeats):
    for q in questions:
        t = time.perf_counter()
        encoder.encode_query(q)
        times.append(time.perf_counter() - t)
        time.sleep(pause)
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--busy", default="0,1,2")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--pause", type=float, default=0.002, help="seconds between two questions (bench/compare.py pauses 0.05)"
    )
    parser.add_argument("--unfused", action="store_true", help="also time the model exported without fusion")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines()]
    encoders: list[tuple[str, list[str]]] = [("fused", [])]
    scratch = tempfile.TemporaryDirectory() if args.unfused else None
    if scratch is not None:
        encoders.append(("unfused", [_export_unfused(Path(scratch.name))]))

    rows = []
    for busy in [int(b) for b in args.busy.split(",")]:
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        try:
            time.sleep(0.5 if busy else 0)
            keys = [(name, *c) for c in CONFIGS for name, _ in encoders]
            p50s: dict[tuple[str, int, bool | str], list[float]] = {k: [] for k in keys}
            p95s: dict[tuple[str, int, bool | str], list[float]] = {k: [] for k in keys}
            extra = dict(encoders)
            for _ in range(args.rounds):
                for name, threads, spinning in keys:
                    done = subprocess.run(
                        [
                            sys.executable,
                            "-c",
                            CHILD,
                            str(threads),
                            _flag(spinning),
                            str(args.repeats),
                            extra[name][0] if extra[name] else "",
                            str(args.pause),
                        ],
                        input=json.dumps(questions),
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    times = json.loads(done.stdout.splitlines()[-1])
                    p50s[(name, threads, spinning)].append(1000 * median(times))
                    p95s[(name, threads, spinning)].append(1000 * percentile(times, 95))
        finally:
            for burner in burners:
                burner.kill()
                burner.wait()
        rows += [
            [busy, threads, {"1": "spin", "0": "sleep"}.get(_flag(spinning), "auto")]
            + ([name] if scratch is not None else [])
            + [f"{median(p50s[(name, threads, spinning)]):.2f}", f"{median(p95s[(name, threads, spinning)]):.2f}"]
            for name, threads, spinning in keys
        ]
    if scratch is not None:
        scratch.cleanup()
    note(
        f"{len(questions)} dev questions x {args.repeats}, {1000 * args.pause:g} ms apart, a fresh process per "
        f"setting, {args.rounds} rounds; "
        f"onnx encoder; {machine()}"
    )
    heads = ["busy cores", "query_threads", "threads between runs"] + (["encoder"] if scratch is not None else [])
    print_table([*heads, "p50 ms", "p95 ms"], rows)


def _flag(spinning: bool | str) -> str:
    return spinning if isinstance(spinning, str) else "1" if spinning else "0"


def _export_unfused(folder: Path) -> str:
    """The packaged model exported as before 2026-12-07: SDPA attention, traced, not fused."""
    from advisor_bot import Settings
    from advisor_bot.index import onnx_encoder
    from advisor_bot.index.embedding import resolve_model

    settings = Settings()
    model_dir, _ = resolve_model(settings.embedding.model, allow_download=False)
    target = folder / "unfused.onnx"
    onnx_encoder.export(Path(model_dir), target, fused=False)
    return str(target)


if __name__ == "__main__":
    main()
