"""`python app.py` in a subprocess on a free port of 127.0.0.1, for the benchmarks that need the
real app (startup.py, load.py)."""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningApp:
    url: str
    pid: int
    lines: queue.Queue[str]  # the app's stderr, line by line, as it comes

    def wait_for(self, marker: str, timeout: float = 300) -> None:
        """Block until the app prints a line containing `marker`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if marker in self.lines.get(timeout=1):
                    return
            except queue.Empty:
                continue
        raise RuntimeError(f"the app did not print {marker!r} within {timeout:.0f} s")


@contextmanager
def running_app(*, wait_for_page: bool = True) -> Iterator[RunningApp]:
    """Starts the app, returns once it prints that it is ready (and, by default, that its chat
    page has loaded: the API answers before the page does), and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # keep reading, so a chatty app never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    try:
        app = RunningApp(url=f"http://127.0.0.1:{port}/", pid=proc.pid, lines=lines)
        app.wait_for("ready at")
        if wait_for_page:
            app.wait_for("chat page loaded")
        yield app
    finally:
        proc.terminate()
        proc.wait(timeout=30)
