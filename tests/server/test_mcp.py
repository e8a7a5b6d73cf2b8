"""MCP (server/mcp_server.py) with the official SDK's own client, over both transports: stdio
(`advisor-bot mcp` as a subprocess, ADVISOR_BOT_ROOT naming the tiny root) and streamable HTTP
(/mcp of a real `advisor-bot serve`). Tools ask_advisor and search_advice, essays as resources."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from conftest import TINY
from helpers import RunningServer, tiny_served_root

from advisor_bot import __version__

mcp = pytest.importorskip("mcp", reason="pip install -e .")
from mcp import Client, StdioServerParameters  # noqa: E402 - after the skip
from mcp.client.stdio import stdio_client  # noqa: E402

pytestmark = pytest.mark.slow

QUESTION = "how do I prepare for an ML interview?"
ESSAYS = ["essay://interviews", "essay://phd-supervisor", "essay://reading-papers"]  # resources.yaml is no essay


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`advisor-bot serve` on the tiny corpus, open on 127.0.0.1."""
    running = RunningServer(tiny_served_root(tmp_path_factory.mktemp("mcp"), TINY))
    yield running
    running.stop()


async def exercise(client: Client) -> dict[str, Any]:
    """Everything an MCP client does with advisor-bot, checked; what it saw, for more checks."""
    assert client.server_info is None or client.server_info.name == "advisor-bot"
    assert "ask_advisor" in (client.instructions or "")

    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"ask_advisor", "search_advice"} <= set(tools)
    assert tools["ask_advisor"].input_schema["required"] == ["question"]
    assert set(tools["search_advice"].input_schema["properties"]) == {"query", "k"}

    asked = await client.call_tool("ask_advisor", {"question": QUESTION})
    assert not asked.is_error, asked.content
    answer = asked.structured_content
    assert answer is not None
    assert "[1]" in answer["text"] and answer["outcome"] == "answered" and answer["corrected"] == []
    assert answer["citations"] and answer["citations"][0]["n"] == 1
    for citation in answer["citations"]:
        assert citation["title"] and citation["url"].startswith("https://") and citation["text"] and citation["quote"]
    assert "[1]" in asked.content[0].text  # type: ignore[union-attr]  # the same JSON as text, for older clients

    for k in (1, 3):
        found = await client.call_tool("search_advice", {"query": "coding interview practice", "k": k})
        assert not found.is_error, found.content
        assert found.structured_content is not None
        passages = found.structured_content["passages"]
        assert [p["rank"] for p in passages] == list(range(1, k + 1))
        assert all(p["title"] and p["text"] and p["doc_id"] for p in passages)

    resources = (await client.list_resources()).resources
    assert sorted(str(r.uri) for r in resources) == ESSAYS
    interviews = next(r for r in resources if str(r.uri) == "essay://interviews")
    assert interviews.title == "Tips for ML Interviews" and interviews.mime_type == "text/markdown"
    (content,) = (await client.read_resource("essay://interviews")).contents
    text = content.text  # type: ignore[union-attr]
    assert text.startswith("# Tips for ML Interviews\n") and text.count("# Tips for ML Interviews") == 1
    assert "Practice LeetCode problems every week." in text
    assert text.endswith("Source: https://example.org/interviews")
    (plain,) = (await client.read_resource("essay://phd-supervisor")).contents
    assert plain.text.startswith("# ") and "Choosing a PhD supervisor" in plain.text  # type: ignore[union-attr]

    # bad arguments are tool errors (isError) with a message, not results or crashes
    bad_ks: list[tuple[object, str]] = [(-1, "k must be from 1 to 50"), ("abc", "valid integer")]
    for bad_k, words in bad_ks:
        bad = await client.call_tool("search_advice", {"query": "interviews", "k": bad_k})
        assert bad.is_error and words in bad.content[0].text, bad.content  # type: ignore[union-attr]
    empty = await client.call_tool("ask_advisor", {"question": "  "})
    assert empty.is_error and "The question is empty" in empty.content[0].text  # type: ignore[union-attr]
    return {"answer": answer}


def run(client: Client) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with client:
            return await exercise(client)

    return anyio.run(go)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_mcp_over_stdio(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, mode: str) -> None:
    """`advisor-bot mcp` in a subprocess, found through ADVISOR_BOT_ROOT (run from elsewhere);
    its messages go to stderr, stdout carries only the protocol."""
    root = tiny_served_root(tmp_path_factory.mktemp(f"mcp-stdio-{mode}"), TINY)
    script = Path(sys.executable).with_name("advisor-bot")
    command, args = (str(script), ["mcp"]) if script.exists() else (sys.executable, ["-m", "advisor_bot", "mcp"])
    params = StdioServerParameters(command=command, args=args, env={"ADVISOR_BOT_ROOT": str(root)}, cwd=tmp_path)
    log = tmp_path / "stderr.log"
    with log.open("w", encoding="utf-8") as errlog:
        # the first run builds the index, so the first answer may take a while
        seen = run(Client(stdio_client(params, errlog=errlog), mode=mode, read_timeout_seconds=300))
    assert seen["answer"]["citations"]
    assert (root / "index").is_dir() and not (tmp_path / "index").exists()  # the root the variable named
    messages = log.read_text(encoding="utf-8")
    assert "building it in" in messages  # the build said what it did, on stderr
    assert "Traceback" not in messages, messages


@pytest.mark.parametrize("path", ["/mcp/", "/mcp"], ids=["slash", "no-slash"])
@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_mcp_over_streamable_http(server: RunningServer, path: str, mode: str) -> None:
    """The running server's /mcp, with or without the trailing slash, with the 2026 protocol
    (auto: server/discover) and the initialize handshake older clients use (legacy)."""
    seen = run(Client(server.url + path, mode=mode, read_timeout_seconds=120))
    assert seen["answer"]["citations"]
    assert "Traceback" not in server.log(), server.log()


def test_mcp_over_http_names_its_version_and_keeps_the_localhost_host_check(server: RunningServer) -> None:
    """Bound to 127.0.0.1, /mcp refuses a foreign Host header (the SDK's DNS-rebinding check)."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {"accept": "application/json, text/event-stream"}
    reply = httpx.post(server.url + "/mcp/", json=initialize, headers=headers, timeout=60)
    assert reply.status_code == 200
    assert reply.json()["result"]["serverInfo"] == {"name": "advisor-bot", "version": __version__}
    foreign = httpx.post(server.url + "/mcp/", json=initialize, headers={**headers, "host": "evil.example"}, timeout=60)
    assert foreign.status_code == 421
    assert "Traceback" not in server.log()
