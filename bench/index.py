"""Adding one ~8 KB essay versus rebuilding the whole index, same process, warm model.

    python bench/index.py [--repeats 3] [--essay-bytes 8000]

Works on a temporary copy of corpus/ (the project's own index/ is never touched). The model is
loaded and warmed first; then, alternately, a full rebuild (`index --rebuild`: every chunk and
sentence embedded) and the addition of one new essay through `Advisor.add_documents` (copy,
front matter, incremental build, publish). Each added essay is different, built from
SciFact abstracts in ../shared/bench/scifact when present (else from numbered generated
paragraphs), and removed again, untimed, before the next round. Prints medians and the ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from advisor_bot import Advisor, Settings, Upload

ROOT = Path(__file__).resolve().parents[1]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--essay-bytes", type=int, default=8000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="advisor-bench-") as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "corpus", root / "corpus")
        bot = Advisor(Settings.load(root))
        bot.embedder.encode(["warm up the model"])
        bot.build_index()
        full: list[float] = []
        add: list[float] = []
        embedded: list[int] = []
        source = essays(args.essay_bytes)
        size = 0
        for _ in range(args.repeats):
            t = time.perf_counter()
            report = bot.build_index(rebuild=True).report
            full.append(time.perf_counter() - t)
            chunks = report.chunks
            text = next(source)
            size = len(text.encode())
            t = time.perf_counter()
            result = bot.add_documents([Upload("bench-essay.md", text)])
            add.append(time.perf_counter() - t)
            assert result.added and result.build is not None, result.refused
            embedded.append(result.build.report.embedded)
            result.added[0].path.unlink()
            bot.refresh()  # untimed: back to the original corpus
        f, a = statistics.median(full), statistics.median(add)
        print(
            f"corpus: {report.documents} documents, {chunks} chunks; new essay ~{size:,} bytes; "
            f"{args.repeats} rounds, warm model"
        )
        print(f"{'operation':34s} {'median s':>9s} {'runs':>30s}")
        print(f"{'full rebuild (index --rebuild)':34s} {f:9.2f} {', '.join(f'{x:.2f}' for x in full):>30s}")
        print(f"{'add one essay (add_documents)':34s} {a:9.2f} {', '.join(f'{x:.2f}' for x in add):>30s}")
        print(f"ratio add / full rebuild: {a / f:.1%} (target <= 25%); chunks embedded per add: {embedded}")


if __name__ == "__main__":
    main()
