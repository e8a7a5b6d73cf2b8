"""Concurrent clients asking through the Gradio API of the real app, for a fixed time.

    python bench/load.py [--clients 8,32] [--seconds 60]

Starts `python app.py` on a free port of 127.0.0.1 (the project's index, default generator),
then for each client count runs that many threads, each with its own gradio_client, asking the
dev questions in turn for the given time. Counts errors (exceptions or answers without text),
latency p50/p99, throughput; and, while the load runs, how long the page itself takes to load
(the queue must keep the app responsive). Prints one table row per client count.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import urllib.request

from benchlib import DEV_QUESTIONS, machine, median, note, percentile, print_table
from running_app import running_app

from advisor_bot.evaluation import load_questions


def run(url: str, clients: int, seconds: float, questions: list[str]) -> dict[str, float]:
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        client = Client(url, verbose=False)
        j = i
        while time.monotonic() < stop:
            q = questions[j % len(questions)]
            j += clients
            t = time.perf_counter()
            try:
                chat, _box, _sources = client.predict(q, [], "extractive", 5, False, api_name="/respond")
                ok = bool(chat) and bool(str(chat[-1].get("content", "")).strip())
                err = None if ok else "empty answer"
            except Exception as exc:
                err = f"{type(exc).__name__}: {exc}"[:200]
            with lock:
                (errors.append(err) if err else latencies.append(time.perf_counter() - t))

    page: list[float] = []

    def prober() -> None:
        while time.monotonic() < stop:
            t = time.perf_counter()
            urllib.request.urlopen(url, timeout=30).read()
            page.append(time.perf_counter() - t)
            time.sleep(1)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)] + [threading.Thread(target=prober)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        print(f"  {len(errors)} errors, first: {errors[0]}", file=sys.stderr)
    return {
        "clients": clients,
        "answers": len(latencies),
        "errors": len(errors),
        "p50": median(latencies),
        "p99": percentile(latencies, 99),
        "throughput": len(latencies) / wall,
        "page_p50": median(page),
        "page_max": max(page) if page else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    questions = [q.question for q in load_questions(DEV_QUESTIONS)]
    with running_app() as app:
        rows = [run(app.url, int(c), args.seconds, questions) for c in args.clients.split(",")]
    note(
        f"{args.seconds:.0f} s per row, dev questions in turn, extractive generator, app queue concurrency 4; "
        f"{machine()}"
    )
    print_table(
        ["clients", "answers", "errors", "p50 s", "p99 s", "answers/s", "page p50 s", "page max s"],
        [
            [
                f"{r['clients']:.0f}",
                f"{r['answers']:.0f}",
                f"{r['errors']:.0f}",
                f"{r['p50']:.2f}",
                f"{r['p99']:.2f}",
                f"{r['throughput']:.2f}",
                f"{r['page_p50']:.3f}",
                f"{r['page_max']:.3f}",
            ]
            for r in rows
        ],
    )


if __name__ == "__main__":
    main()
