"""`python app.py` in a subprocess on a free port of 127.0.0.1, for the benchmarks that need the
real app (startup.py, load.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
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


@contextmanager
def running_app() -> Iterator[RunningApp]:
    """Starts the app, returns once it prints that it is ready, and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "ready at" in line:
                break
        else:
            raise RuntimeError("the app exited before it was ready")
        yield RunningApp(url=f"http://127.0.0.1:{port}/", pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
