"""Concurrent clients asking the real app for a fixed time: through the Gradio API, through the
OpenAI-compatible API behind nginx with one and two replicas, or a long soak that watches memory.

    python bench/load.py [--clients 8,32] [--seconds 60]
    python bench/load.py --api-through-nginx [--replicas 1,2] [--clients 8] [--seconds 60]
    python bench/load.py --soak [--via api|gradio] [--clients 16] [--seconds 600] [--sample-every 10]

Every mode serves the project's own corpus/ and index/ (built first if there is none), asks the
dev questions in turn (one per request, no history), extractive generator, and counts errors
(exceptions, HTTP errors, answers without text) and latency p50/p99 and throughput.

- Gradio (default): `python app.py` on a free port; each client is its own gradio_client calling
  /ask; a prober loads the page once a second meanwhile (the queue must keep the page
  responsive). One row per client count.
- --api-through-nginx: for each replica count, that many `advisor-bot serve` processes on one
  root behind nginx (deploy/nginx/advisor-bot.conf, bench/replicas.py); each client is its own
  httpx client posting non-streamed /v1/chat/completions to nginx. One row per replica count,
  with how nginx split the answers between the replicas.
- --soak: one `advisor-bot serve`, N askers (/v1 or the Gradio API) for the whole time, and the
  server's resident memory every few seconds (psutil, else /proc/<pid>/status); prints RSS
  over time and its spread after the first minute (the target: flat within 10%).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import replicas
from benchlib import DEV_QUESTIONS, ROOT, machine, median, note, percentile, print_table
from running_app import running_app

from advisor_bot.evaluation import load_questions

REQUEST = {"model": "extractive", "stream": False}
SETTLE = 60.0  # seconds of a soak after which memory should stay flat (the "after the first minute")


class ApiAsker:
    """One client of POST /v1/chat/completions (non-streamed), with its own connection pool."""

    def __init__(self, url: str) -> None:
        import httpx

        key = os.environ.get("ADVISOR_BOT_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=url, timeout=120, headers=headers)
        self.upstreams: collections.Counter[str] = collections.Counter()

    def ask(self, question: str) -> str | None:
        """None when answered, else what went wrong."""
        response = self.client.post(
            "v1/chat/completions", json={**REQUEST, "messages": [{"role": "user", "content": question}]}
        )
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:150]}"
        self.upstreams[response.headers.get("x-upstream", "-")] += 1
        content = response.json()["choices"][0]["message"]["content"]
        return None if str(content).strip() else "empty answer"

    def close(self) -> None:
        self.client.close()


class GradioAsker:
    """One gradio_client calling the app's /ask endpoint."""

    def __init__(self, url: str) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False)
        self.upstreams: collections.Counter[str] = collections.Counter()

    def ask(self, question: str) -> str | None:
        answer, _sources, _record = self.client.predict(question, [], "extractive", None, api_name="/ask")
        return None if str(answer).strip() else "empty answer"

    def close(self) -> None:
        self.client.close()


Asker = ApiAsker | GradioAsker


@dataclass
class Load:
    """What the clients of one run saw, shared between their threads."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    upstreams: collections.Counter[str] = field(default_factory=collections.Counter)
    wall: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self) -> dict[str, float]:
        with self.lock:
            return {
                "answers": len(self.latencies),
                "errors": len(self.errors),
                "p50": median(self.latencies),
                "p99": percentile(self.latencies, 99),
                "throughput": len(self.latencies) / self.wall if self.wall else float("nan"),
            }


def drive(
    make_asker: Callable[[], Asker],
    clients: int,
    seconds: float,
    questions: list[str],
    *,
    beside: Sequence[Callable[[float], None]] = (),
    load: Load | None = None,
) -> Load:
    """`clients` threads, each with its own asker, asking questions in turn until `seconds`
    have passed; `beside` are more threads (a page prober, a memory sampler) given the stop
    time; `load` is where the results go (one a sampler can read while the run goes on)."""
    load = Load() if load is None else load
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        try:
            asker = make_asker()
        except Exception as exc:
            with load.lock:
                load.errors.append(f"client did not start: {type(exc).__name__}: {exc}"[:200])
            return
        j = i
        try:
            while time.monotonic() < stop:
                question = questions[j % len(questions)]
                j += clients
                t = time.perf_counter()
                try:
                    err = asker.ask(question)
                except Exception as exc:
                    err = f"{type(exc).__name__}: {exc}"[:200]
                with load.lock:
                    (load.errors.append(err) if err else load.latencies.append(time.perf_counter() - t))
        finally:
            with load.lock:
                load.upstreams.update(asker.upstreams)
            asker.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    threads += [threading.Thread(target=task, args=(stop,)) for task in beside]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load.wall = time.perf_counter() - started
    if load.errors:
        print(f"  {len(load.errors)} errors, first: {load.errors[0]}", file=sys.stderr)
    return load


def ensure_index() -> None:
    """Build the project's index once if there is none (several replicas must not all try)."""
    if not (ROOT / "index" / "CURRENT").exists():
        cmd = [sys.executable, "-m", "advisor_bot", "--root", str(ROOT), "index"]
        subprocess.run(cmd, check=True, env=replicas.clean_env())


# ---------- the modes ----------


def gradio_mode(client_counts: list[int], seconds: float, questions: list[str]) -> None:
    rows = []
    with running_app() as app:
        for clients in client_counts:
            page: list[float] = []

            def prober(stop: float, url: str = app.url, page: list[float] = page) -> None:
                while time.monotonic() < stop:
                    t = time.perf_counter()
                    urllib.request.urlopen(url, timeout=30).read()
                    page.append(time.perf_counter() - t)
                    time.sleep(1)

            load = drive(lambda: GradioAsker(app.url), clients, seconds, questions, beside=[prober])
            rows.append(
                {
                    **load.summary(),
                    "clients": clients,
                    "page_p50": median(page),
                    "page_max": max(page, default=float("nan")),
                }
            )
    note(
        f"{seconds:.0f} s per row, dev questions in turn, extractive generator, Gradio API /ask, app queue concurrency 4; {machine()}"
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


def nginx_mode(replica_counts: list[int], clients: int, seconds: float, questions: list[str]) -> None:
    if not replicas.NGINX.exists():
        sys.exit(f"nginx is not installed at {replicas.NGINX} (apt-get install nginx)")
    ensure_index()
    rows = []
    for count in replica_counts:
        print(f"starting {count} replica(s) and nginx ...", file=sys.stderr)
        with replicas.serve_replicas(ROOT, count) as servers, replicas.nginx_front(servers) as front:
            load = drive(lambda: ApiAsker(front.url), clients, seconds, questions)
            split = "/".join(str(load.upstreams.get(s.address, 0)) for s in servers)
        rows.append({**load.summary(), "replicas": count, "split": split})
    note(
        f"{seconds:.0f} s per row, {clients} clients, dev questions in turn, POST /v1/chat/completions "
        f"(extractive, not streamed) through nginx (round robin), project corpus, query cache on (the default); {machine()}"
    )
    print_table(
        ["replicas", "clients", "answers", "errors", "answers/s", "p50 s", "p99 s", "answers per replica"],
        [
            [
                f"{r['replicas']:.0f}",
                str(clients),
                f"{r['answers']:.0f}",
                f"{r['errors']:.0f}",
                f"{r['throughput']:.2f}",
                f"{r['p50']:.2f}",
                f"{r['p99']:.2f}",
                r["split"],
            ]
            for r in rows
        ],
    )


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (psutil when installed, else /proc/<pid>/status)."""
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]

        return float(psutil.Process(pid).memory_info().rss) / 1e6
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6  # reported in kB
        return float("nan")


def soak_mode(via: str, clients: int, seconds: float, every: float, settle: float, questions: list[str]) -> None:
    ensure_index()
    samples: list[tuple[float, float, int, int]] = []  # (seconds since start, RSS MB, answers, errors)
    with replicas.serve_replicas(ROOT, 1) as (server,):
        start = time.monotonic()
        load = Load()

        def sampler(stop: float) -> None:
            while True:
                now = time.monotonic()
                with load.lock:
                    answered, errors = len(load.latencies), len(load.errors)
                samples.append((now - start, rss_mb(server.pid), answered, errors))
                if now >= stop:
                    return
                time.sleep(min(every, max(0.0, stop - now)))

        def make() -> Asker:
            return ApiAsker(server.url) if via == "api" else GradioAsker(server.url)

        drive(make, clients, seconds, questions, beside=[sampler], load=load)
    s = load.summary()
    door = "POST /v1/chat/completions" if via == "api" else "Gradio API /ask"
    note(
        f"soak: {seconds:.0f} s, {clients} clients, {door}, extractive, one server (pid {server.pid}), project corpus; "
        f"{s['answers']:.0f} answers, {s['errors']:.0f} errors, {s['throughput']:.2f} answers/s, "
        f"p50 {s['p50']:.2f} s, p99 {s['p99']:.2f} s; {machine()}"
    )
    print_table(
        ["t s", "RSS MB", "answers", "errors"],
        [[f"{t:.0f}", f"{rss:.0f}", str(a), str(e)] for t, rss, a, e in samples],
    )
    settled = [rss for t, rss, _, _ in samples if t >= settle]
    after = "the first minute" if settle == SETTLE else f"the first {settle:.0f} s"
    if settled:
        low, high = min(settled), max(settled)
        spread = (high - low) / low * 100
        verdict = "flat within 10%" if spread <= 10 else "NOT flat within 10%"
        note(f"RSS after {after}: min {low:.0f} MB / max {high:.0f} MB, spread {spread:.1f}% ({verdict})")
    else:
        note(f"RSS after {after}: no samples (the run lasted {seconds:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--api-through-nginx", action="store_true", help="/v1 behind nginx, one row per replica count")
    mode.add_argument("--soak", action="store_true", help="one server for a long time, RSS sampled")
    parser.add_argument("--clients", default=None, help="client count(s): default 8,32 (Gradio), 8 (nginx), 16 (soak)")
    parser.add_argument("--seconds", type=float, default=None, help="per row: default 60; soak 600")
    parser.add_argument("--replicas", default="1,2", help="replica counts for --api-through-nginx")
    parser.add_argument("--via", choices=["api", "gradio"], default="api", help="what the soak's clients call")
    parser.add_argument("--sample-every", type=float, default=10, help="seconds between RSS samples (soak)")
    parser.add_argument("--settle", type=float, default=SETTLE, help="soak seconds before RSS must stay flat")
    args = parser.parse_args()
    questions = [q.question for q in load_questions(DEV_QUESTIONS)]
    if args.api_through_nginx:
        counts = [int(c) for c in args.replicas.split(",")]
        nginx_mode(counts, int(args.clients or 8), args.seconds or 60, questions)
    elif args.soak:
        soak_mode(args.via, int(args.clients or 16), args.seconds or 600, args.sample_every, args.settle, questions)
    else:
        gradio_mode([int(c) for c in (args.clients or "8,32").split(",")], args.seconds or 60, questions)


if __name__ == "__main__":
    main()
