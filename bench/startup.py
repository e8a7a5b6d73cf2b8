"""Cold start: commands that need no model, `advisor-bot ask`, and `python app.py` until it answers.

    python bench/startup.py [--runs 3]

Each command runs in a fresh process against the project's index (built first if missing).
For the app: wall time until it prints "ready", until the page loads, and until a first
question sent through the Gradio API (gradio_client) is answered; then the app's peak
resident memory (VmHWM) with the default generator. Prints one table: the median and every
run of each.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchlib import ROOT, machine, median, note, print_table, runs
from running_app import running_app

BIN = Path(sys.executable).parent / "advisor-bot"
QUESTION = "how do I prepare for an ML interview?"


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - t


def app_start() -> tuple[float, float, float, float]:
    from gradio_client import Client

    t = time.perf_counter()
    with running_app() as app:
        ready = time.perf_counter() - t
        urllib.request.urlopen(app.url, timeout=30).read()
        page = time.perf_counter() - t
        Client(app.url, verbose=False).predict(QUESTION, [], "extractive", 5, False, api_name="/respond")
        answered = time.perf_counter() - t
        with open(f"/proc/{app.pid}/status") as fh:
            hwm = next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:"))
    return ready, page, answered, hwm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (ROOT / "index" / "CURRENT").exists():
        subprocess.run([str(BIN), "index"], cwd=ROOT, check=True)
    rows: dict[str, list[float]] = {}
    for _ in range(args.runs):
        rows.setdefault("advisor-bot --help", []).append(wall([str(BIN), "--help"]))
        rows.setdefault("advisor-bot index --status", []).append(wall([str(BIN), "index", "--status"]))
        rows.setdefault(f'advisor-bot ask "{QUESTION}"', []).append(wall([str(BIN), "ask", QUESTION]))
        ready, page, answered, hwm = app_start()
        rows.setdefault("python app.py: prints ready", []).append(ready)
        rows.setdefault("python app.py: page loads", []).append(page)
        rows.setdefault("python app.py: first answer (Gradio API)", []).append(answered)
        rows.setdefault("app peak RSS (MB)", []).append(hwm)
    note(f"{args.runs} runs each, fresh processes; {machine()}")
    print_table(
        ["what", "median", "runs"],
        [[name, f"{median(values):.2f}{'' if 'MB' in name else ' s'}", runs(values)] for name, values in rows.items()],
    )


if __name__ == "__main__":
    main()
