"""Cold start: commands that need no model, `advisor-bot ask`, and `python app.py` until it answers.

    python bench/startup.py [--runs 3]

Each command runs in a fresh process against the project's index (built first if missing).
For the app: wall time until it prints "ready at", until a first question through /v1 is
answered, until the chat page is served (it loads in the background after "ready at"), and
until a first question through the page's Gradio API (gradio_client, /ask) is answered; then
the app's peak resident memory (VmHWM) with the default generator. Prints one table: the median and every
run of each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.error
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


def app_start() -> dict[str, float]:
    """Seconds from `python app.py` to: "ready at", a first answer through /v1, the chat page
    served (HTTP 200, not the "loading" page), a first answer through the page's Gradio API; and
    the app's peak resident memory in MB."""
    from gradio_client import Client

    t = time.perf_counter()
    with running_app(wait_for_page=False) as app:
        times = {"prints `ready at`": time.perf_counter() - t}
        body = json.dumps({"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}).encode()
        request = urllib.request.Request(app.url + "v1/chat/completions", body, {"content-type": "application/json"})
        assert "[1]" in json.load(urllib.request.urlopen(request, timeout=60))["choices"][0]["message"]["content"]
        times["first answer through /v1"] = time.perf_counter() - t
        while True:
            try:
                urllib.request.urlopen(app.url, timeout=30).read()
                break
            except urllib.error.HTTPError as exc:  # 503 while the page loads in the background
                if exc.code != 503:
                    raise
                time.sleep(0.05)
        times["chat page served"] = time.perf_counter() - t
        client = Client(app.url, verbose=False)
        assert (
            "[1]"
            in client.predict(question=QUESTION, history=[], generator="extractive", k=5, api_name="/ask")[2]["text"]
        )
        client.close()
        times["first answer through the page's API"] = time.perf_counter() - t
        with open(f"/proc/{app.pid}/status") as fh:
            times["peak RSS (MB)"] = next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:"))
    return times


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
        for name, value in app_start().items():
            rows.setdefault(f"python app.py: {name}", []).append(value)
    note(f"{args.runs} runs each, fresh processes; {machine()}")
    print_table(
        ["what", "median", "runs"],
        [[name, f"{median(values):.2f}{'' if 'MB' in name else ' s'}", runs(values)] for name, values in rows.items()],
    )


if __name__ == "__main__":
    main()
