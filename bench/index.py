"""Adding one ~8 KB essay versus rebuilding the whole index, same process, warm model.

    python bench/index.py [--repeats 3] [--essay-bytes 8000]

Works on a temporary copy of corpus/ (the project's own index/ is never touched). A first
build, untimed, exports the encoder to ONNX (as every first build does) and the model is
warmed; then, alternately, a full rebuild (`Advisor.build_index(rebuild=True)`, what `index
--rebuild` runs: every chunk and sentence embedded) and the addition of one new essay through
`Advisor.add_documents` (copy, front matter, incremental build, publish). Each added essay is
different, built from SciFact abstracts in ../shared/bench/scifact when present (else from
numbered generated paragraphs), and removed again, untimed, before the next round.

Prints the medians of both and the ratio add / full rebuild, then where the time goes: the
median seconds of each build stage (store.BUILD_STAGES, timed through build_index's
`on_stage` callback: a stage lasts until the next one starts, the last until the call
returns; "before the build" is reading the corpus, writing the essay and taking the lock).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchlib import ROOT, encoder_backend, machine, median, note, print_table, runs

from advisor_bot import Advisor, Settings, Upload
from advisor_bot.index.store import BUILD_STAGES

SCIFACT = ROOT.parent / "shared" / "bench" / "scifact" / "corpus.jsonl"


def essays(size: int) -> Iterator[str]:
    """Endless distinct markdown essays of about `size` bytes: headed sections of real prose."""
    sections: Iterator[tuple[str, str]]
    if SCIFACT.is_file():

        def from_scifact() -> Iterator[tuple[str, str]]:
            with open(SCIFACT, encoding="utf-8") as fh:
                for line in fh:
                    doc = json.loads(line)
                    if len(doc.get("text", "")) > 400:
                        yield doc["title"], doc["text"]

        sections = from_scifact()
    else:
        sections = (
            (f"Section {i}", f"Paragraph {i} of a generated essay about research habits. " * 12) for i in range(10**9)
        )
    n = 0
    while True:
        n += 1
        parts = [f"# Benchmark essay {n}\n"]
        while sum(len(p.encode()) for p in parts) < size:
            title, text = next(sections)
            parts.append(f"## {title}\n\n{text}\n")
        yield "\n".join(parts)


class StageClock:
    """Seconds per build stage, from the on_stage callback; `stop()` ends the last stage."""

    BEFORE = "before the build"

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.stage = self.BEFORE
        self.since = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[self.stage] = self.seconds.get(self.stage, 0.0) + now - self.since
        self.stage, self.since = stage, now

    def stop(self) -> dict[str, float]:
        self("")
        return self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--essay-bytes", type=int, default=8000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "corpus", root / "corpus")
        bot = Advisor(Settings.load(root))
        first = time.perf_counter()
        bot.build_index()
        first = time.perf_counter() - first
        bot.embedder.encode(["warm up the model"])
        full: list[float] = []
        add: list[float] = []
        embedded: list[int] = []
        stages: dict[str, dict[str, list[float]]] = {"full": {}, "add": {}}
        source = essays(args.essay_bytes)
        size = 0
        for _ in range(args.repeats):
            clock = StageClock()
            t = time.perf_counter()
            report = bot.build_index(rebuild=True, on_stage=clock)
            full.append(time.perf_counter() - t)
            for stage, seconds in clock.stop().items():
                stages["full"].setdefault(stage, []).append(seconds)
            text = next(source)
            size = len(text.encode())
            clock = StageClock()
            t = time.perf_counter()
            result = bot.add_documents([Upload("bench-essay.md", text)], on_stage=clock)
            add.append(time.perf_counter() - t)
            for stage, seconds in clock.stop().items():
                stages["add"].setdefault(stage, []).append(seconds)
            assert result.added and result.build is not None, result.refused
            embedded.append(result.build.embedded)
            result.added[0].path.unlink()
            bot.refresh()  # untimed: back to the original corpus
        f, a = median(full), median(add)
        backend = encoder_backend(bot.embedder)
        note(
            f"corpus: {report.documents} documents, {report.chunks} chunks; new essay ~{size:,} bytes; "
            f"{args.repeats} rounds, warm model, {backend} encoder (first build with the export: {first:.1f} s); "
            f"{machine()}"
        )
        print_table(
            ["operation", "median s", "runs"],
            [
                ["full rebuild (index --rebuild)", f"{f:.2f}", runs(full)],
                ["add one essay (add_documents)", f"{a:.2f}", runs(add)],
                ["ratio add / full rebuild", f"{a / f:.1%}", "target <= 25%"],
            ],
        )
        note(f"chunks embedded per add: {embedded}")
        names = [StageClock.BEFORE, *BUILD_STAGES]
        print_table(
            ["stage", "full rebuild s", "share", "add one essay s", "share"],
            [
                [
                    name,
                    f"{median(stages['full'].get(name, [])):.3f}",
                    f"{median(stages['full'].get(name, [])) / f:.0%}",
                    f"{median(stages['add'].get(name, [])):.3f}",
                    f"{median(stages['add'].get(name, [])) / a:.0%}",
                ]
                for name in names
                if name in stages["full"] or name in stages["add"]
            ],
            title="where the time goes (median seconds per stage)",
        )


if __name__ == "__main__":
    main()
