"""Two replicas of `advisor-bot serve` sharing one corpus/ and index/, behind nginx with the site
docs/DEPLOY.md shows (deploy/nginx/advisor-bot.conf): the API round robin, the UI sticky.

The processes are started by bench/replicas.py (the same code bench/load.py measures with);
which replica answered a request is nginx's own record of it, the X-Upstream header
($upstream_addr). Skipped with the reason when Debian's nginx is missing (apt-get install nginx).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from conftest import TINY
from helpers import REPO, write_tiny_corpus


def _bench_module(name: str) -> ModuleType:
    """A module of bench/ (not a package), imported by path."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it is being executed
    spec.loader.exec_module(module)
    return module


replicas = _bench_module("replicas")
needs_nginx = pytest.mark.skipif(
    not replicas.NGINX.exists(), reason=f"Debian nginx is not installed at {replicas.NGINX} (apt-get install nginx)"
)

SETS = [f"{key}={value}" for key, value in TINY.items()]
QUESTION = "How do I prepare for coding interviews?"
NEW_TITLE = "What Beekeeping Taught Me About Research"
NEW_ESSAY = """# Keeping bees and running experiments

## Hive inspections

Beekeeping taught me to inspect the hive every week and write down what I saw in a logbook.
A weekly hive inspection is like reviewing your experiment logs before the next training run.

## Swarms

When a colony swarms, the beekeeper who kept notes knows why; a researcher who logs every
experiment knows why a training run diverged.
"""
NEW_QUESTION = "What does beekeeping and a weekly hive inspection teach about experiments?"


@dataclass
class Cluster:
    """Two replicas, nginx in front of them, and the root they share."""

    root: Path
    servers: list[Any]  # replicas.Server
    front: Any  # replicas.Front

    @property
    def addresses(self) -> set[str]:
        return {s.address for s in self.servers}

    def logs(self) -> str:
        """Everything the processes said, for a failing assertion's message."""
        parts = [f"--- {s.name} ({s.address})\n{s.output()}" for s in self.servers]
        return "\n".join(
            [
                *parts,
                f"--- nginx error.log\n{self.front.log()}",
                f"--- nginx access.log\n{self.front.log('access.log')}",
            ]
        )


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`advisor-bot --root ROOT --set (tiny settings) ARGS` as a process of its own."""
    sets = [arg for pair in SETS for arg in ("--set", pair)]
    return subprocess.run(
        [sys.executable, "-m", "advisor_bot", "--root", str(root), *sets, *args],
        capture_output=True,
        text=True,
        env=replicas.clean_env(),
        timeout=300,
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The tiny corpus indexed once, then two replicas on it and nginx on a third port; every
    process is stopped afterwards, also when starting one of them fails."""
    root = tmp_path_factory.mktemp("replicas")
    write_tiny_corpus(root)
    built = _cli(root, "index")
    assert built.returncode == 0, built.stderr
    with replicas.serve_replicas(root, 2, sets=SETS) as servers, replicas.nginx_front(servers) as front:
        yield Cluster(root, servers, front)


def _ask(cluster: Cluster, question: str) -> tuple[str, dict[str, Any]]:
    """(the replica nginx sent it to, the response) for one non-streamed OpenAI-style request."""
    response = httpx.post(
        cluster.front.url + "v1/chat/completions",
        json={"model": "extractive", "messages": [{"role": "user", "content": question}]},
        timeout=60,
    )
    assert response.status_code == 200, f"{response.status_code} {response.text}\n{cluster.logs()}"
    upstream = response.headers["x-upstream"]
    assert upstream in cluster.addresses, upstream  # one replica, no retry on another
    return upstream, response.json()


def _titles(body: dict[str, Any]) -> set[str]:
    return {c["title"] for c in body["advisor"]["citations"]}


def test_the_site_in_the_docs_is_the_one_tested() -> None:
    """docs/DEPLOY.md shows deploy/nginx/advisor-bot.conf as rendered for two replicas."""
    shown = replicas.render_site("80", ["10.0.0.11:7860", "10.0.0.12:7860"])
    assert shown in (REPO / "docs" / "DEPLOY.md").read_text(encoding="utf-8")


@pytest.mark.slow
@needs_nginx
def test_the_api_is_round_robin_over_both_replicas(cluster: Cluster) -> None:
    answered = [_ask(cluster, QUESTION) for _ in range(4)]
    assert {upstream for upstream, _ in answered} == cluster.addresses, cluster.logs()
    for _, body in answered:
        assert body["choices"][0]["message"]["content"].strip()
        assert "Tips for ML Interviews" in _titles(body)


@pytest.mark.slow
@needs_nginx
def test_mcp_through_nginx(cluster: Cluster) -> None:
    response = httpx.post(
        cluster.front.url + "mcp/",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-upstream"] in cluster.addresses
    assert "ask_advisor" in {tool["name"] for tool in response.json()["result"]["tools"]}


@pytest.mark.slow
@needs_nginx
def test_the_ui_through_nginx_is_sticky_and_streams(cluster: Cluster) -> None:
    from gradio_client import Client

    url = cluster.front.url
    pages = [httpx.get(url, timeout=30) for _ in range(3)]
    for page in pages:
        assert page.status_code == 200 and "gradio" in page.text.lower(), page.text[:500]
    assert len({page.headers["x-upstream"] for page in pages}) == 1  # ip_hash: one client, one replica
    # Gradio writes its page's URLs from X-Forwarded-Host: they must point at nginx, not a replica
    assert httpx.get(url + "config", timeout=30).json()["root"].rstrip("/") == url.rstrip("/")

    # the queue (join, then server-sent events) through the proxy, all on the same replica
    answer, _sources, record = Client(url, verbose=False).predict(QUESTION, [], "extractive", None, api_name="/ask")
    assert "#source-0-1" in answer and record["citations"]  # the markdown of a cited answer
    # nginx logs a request when it ends: the event stream's line may land just after predict returns
    queue_upstreams: list[str] = []
    deadline = time.monotonic() + 10
    while len(queue_upstreams) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        log = cluster.front.log("access.log")
        queue_upstreams = re.findall(r'"[A-Z]+ /gradio_api/queue/\S+ [^"]*" \d+ (\S+)', log)
    assert len(queue_upstreams) >= 2 and len(set(queue_upstreams)) == 1, cluster.front.log("access.log")

    # an upload of an essay bigger than nginx's default 1 MB body limit reaches the app
    essay = ("A long essay about research. " * 50_000).encode()[:1_500_000]
    upload = httpx.post(url + "gradio_api/upload", files={"files": ("long.md", essay, "text/markdown")}, timeout=60)
    assert upload.status_code == 200, upload.text[:500]


@pytest.mark.slow
@needs_nginx
def test_an_essay_added_by_another_process_is_served_by_both_replicas(cluster: Cluster, tmp_path: Path) -> None:
    before = (cluster.root / "index" / "CURRENT").read_text().strip()
    for _ in range(2):  # one request to each replica: neither knows the essay yet
        _, body = _ask(cluster, NEW_QUESTION)
        assert NEW_TITLE not in _titles(body)

    essay = tmp_path / "beekeeping.md"
    essay.write_text(NEW_ESSAY, encoding="utf-8")
    added = _cli(cluster.root, "add", str(essay), "--title", NEW_TITLE)  # a third process, same root
    assert added.returncode == 0, added.stdout + added.stderr
    assert f"({NEW_TITLE})" in added.stdout
    after = (cluster.root / "index" / "CURRENT").read_text().strip()
    assert after != before

    # round robin: keep asking until each replica has answered from the new version, citing the essay
    served: dict[str, dict[str, Any]] = {}
    for _ in range(10):
        upstream, body = _ask(cluster, NEW_QUESTION)
        if NEW_TITLE in _titles(body) and body["advisor"]["index_version"] == after:
            served.setdefault(upstream, body)
        if set(served) == cluster.addresses:
            break
    assert set(served) == cluster.addresses, f"served the new essay: {sorted(served)}\n{cluster.logs()}"
    for body in served.values():
        assert "beekeep" in body["choices"][0]["message"]["content"].lower() or "hive" in (
            body["choices"][0]["message"]["content"].lower()
        )
    for server in cluster.servers:  # both are still the processes started before the add
        assert server.proc.poll() is None
