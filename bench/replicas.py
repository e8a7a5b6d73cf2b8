"""Replicas of `advisor-bot serve` behind nginx, all on 127.0.0.1: for tests/test_replicas.py
and bench/load.py.

    with serve_replicas(root, 2, sets=[...]) as servers, nginx_front(servers) as front:
        httpx.post(front.url + "v1/chat/completions", json={...})

Each replica is `python -m advisor_bot --root ROOT serve --port P` (they share ROOT's corpus/ and
index/); it counts as started when it prints "ready at" on stderr, which is kept in `lines`.
nginx serves deploy/nginx/advisor-bot.conf (the site docs/DEPLOY.md shows) from a temporary
folder of its own (`nginx -p DIR -c nginx.conf`, `daemon off`, pid, logs and temp files in
DIR). Every process started here is stopped when its `with` block ends, error or not.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NGINX = Path("/usr/sbin/nginx")
SITE = REPO / "deploy" / "nginx" / "advisor-bot.conf"
READY = "ready at"
PAGE_LOADED = "chat page loaded"  # the chat page loads after the API answers (server/lazy_ui.py)

MAIN_CONF = """\
# nginx for one run, everything inside this folder ({prefix})
daemon off;
master_process on;
worker_processes 1;
{user}pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    log_format upstream '$remote_addr "$request" $status $upstream_addr';
    access_log {prefix}/access.log upstream;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {prefix}/advisor-bot.conf;
}}
"""


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A process started here: its port, and every line it wrote on stderr so far."""

    name: str
    proc: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def address(self) -> str:
        """host:port, as nginx's $upstream_addr names it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}/"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return "".join(self.lines)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without ADVISOR_BOT_* variables (the replicas take settings from --set
    and the root's advisor-bot.toml only), with src/ importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


def _start(name: str, args: Sequence[str], port: int, env: Mapping[str, str]) -> tuple[Server, queue.Queue[str]]:
    proc = subprocess.Popen(list(args), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=dict(env))
    server = Server(name, proc, port)
    fresh: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # keep reading, so a chatty server never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            server.lines.append(line)
            fresh.put(line)

    threading.Thread(target=drain, daemon=True).start()
    return server, fresh


def _stop(server: Server, timeout: float = 20) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait(timeout=timeout)


@contextlib.contextmanager
def serve_replicas(
    root: Path,
    count: int,
    *,
    sets: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> Iterator[list[Server]]:
    """`count` replicas of `advisor-bot serve` sharing `root`, started together; yields once
    every one says it is ready and its chat page has loaded, stops them all on exit. `sets` are `--set key=value` pairs."""
    env = clean_env() if env is None else env
    started: list[tuple[Server, queue.Queue[str]]] = []
    try:
        for i in range(count):
            port = free_port()
            args = [sys.executable, "-m", "advisor_bot", "--root", str(root)]
            args += [arg for pair in sets for arg in ("--set", pair)]
            args += ["serve", "--port", str(port)]
            started.append(_start(f"replica {i + 1}", args, port, env))
        deadline = time.monotonic() + timeout
        for server, fresh in started:
            while not (
                any(READY in line for line in server.lines) and any(PAGE_LOADED in line for line in server.lines)
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{server.name} did not say it was ready:\n{server.output()}")
                try:
                    fresh.get(timeout=1)
                except queue.Empty:
                    if server.proc.poll() is not None:
                        raise RuntimeError(f"{server.name} exited before it was ready:\n{server.output()}") from None
        yield [server for server, _ in started]
    finally:
        for server, _ in started:
            _stop(server)


def render_site(listen: str, replicas: Sequence[str]) -> str:
    """deploy/nginx/advisor-bot.conf for this listen address and these replicas (host:port)."""
    servers = "\n    ".join(f"server {address};" for address in replicas)
    site = SITE.read_text(encoding="utf-8").replace("${LISTEN}", listen).replace("${REPLICAS}", servers)
    if "${" in site:
        raise ValueError(f"{SITE} has a placeholder other than ${{LISTEN}} and ${{REPLICAS}}")
    return site


@dataclass
class Front:
    """nginx in front of the replicas: its URL and its own folder (config, logs)."""

    server: Server
    prefix: Path

    @property
    def url(self) -> str:
        return self.server.url

    def log(self, name: str = "error.log") -> str:
        path = self.prefix / name
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


@contextlib.contextmanager
def nginx_front(replicas: Sequence[Server | str], *, binary: Path = NGINX, timeout: float = 20) -> Iterator[Front]:
    """nginx on a free port of 127.0.0.1 serving deploy/nginx/advisor-bot.conf over `replicas`
    (servers or host:port); yields once it accepts connections, stops it on exit."""
    addresses = [r.address if isinstance(r, Server) else r for r in replicas]
    prefix = Path(tempfile.mkdtemp(prefix="advisor-nginx-"))
    server: Server | None = None
    try:
        (prefix / "tmp").mkdir()
        port = free_port()
        (prefix / "advisor-bot.conf").write_text(render_site(f"127.0.0.1:{port}", addresses), encoding="utf-8")
        # run as root (a container, CI), the worker would be `nobody`, which cannot enter this folder
        user = "user root root;\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(MAIN_CONF.format(prefix=prefix, user=user), encoding="utf-8")
        args = [str(binary), "-p", str(prefix), "-c", "nginx.conf", "-e", str(prefix / "error.log")]
        check = subprocess.run([*args, "-t", "-q"], capture_output=True, text=True, timeout=timeout)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected its configuration:\n{check.stderr}")
        server, _ = _start("nginx", args, port, os.environ)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if server.proc.poll() is not None or time.monotonic() > deadline:
                log = (prefix / "error.log").read_text(errors="replace") if (prefix / "error.log").exists() else ""
                raise RuntimeError(f"nginx did not start listening on {port}:\n{server.output()}{log}")
            time.sleep(0.1)
        yield Front(server, prefix)
    finally:
        if server is not None:
            _stop(server)
        shutil.rmtree(prefix, ignore_errors=True)
