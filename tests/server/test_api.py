"""The HTTP API of a real `advisor-bot serve` (server/api.py behind server/access.py), spoken to
in raw HTTP: /v1/models, /v1/chat/completions (whole and streamed), /v1/search, /v1/index, and
every kind of bad input answered with a 4xx JSON error and no traceback in the server's log.
The official clients (openai, llm, gradio_client) are in test_clients.py, MCP in test_mcp.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import TINY
from helpers import RunningServer, tiny_served_root

pytestmark = pytest.mark.slow

QUESTION = "how do I prepare for an ML interview?"
USER = {"role": "user", "content": QUESTION}
KEY = "test-key-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`advisor-bot serve` on the tiny corpus, open on 127.0.0.1 (no API key)."""
    running = RunningServer(tiny_served_root(tmp_path_factory.mktemp("api"), TINY))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A second server that requires ADVISOR_BOT_API_KEY (a key that is set is always required)."""
    running = RunningServer(
        tiny_served_root(tmp_path_factory.mktemp("api-key"), TINY), env={"ADVISOR_BOT_API_KEY": KEY}
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=120) as client:
        yield client


def assert_clean_log(server: RunningServer) -> None:
    log = server.log()
    assert "Traceback" not in log, log


def test_models_lists_the_generators_as_openai_models(http: httpx.Client) -> None:
    reply = http.get("/v1/models")
    assert reply.status_code == 200
    body = reply.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert "extractive" in ids
    assert all(m["object"] == "model" and m["owned_by"] == "advisor-bot" for m in body["data"])


def test_chat_completion_is_openai_shaped_with_the_citations_beside_it(http: httpx.Client) -> None:
    reply = http.post("/v1/chat/completions", json={"model": "extractive", "messages": [USER]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant" and choice["finish_reason"] == "stop"
    assert "[1]" in choice["message"]["content"]
    extra = body["advisor"]
    assert extra["outcome"] == "answered" and extra["generator"] == "extractive"
    assert extra["query"] == QUESTION  # nothing to condense: the question is the query
    assert extra["corrected"] == []
    assert extra["citations"] and extra["citations"][0]["n"] == 1
    for citation in extra["citations"]:
        assert citation["title"] and citation["url"].startswith("https://") and citation["text"]
        assert "section" in citation and citation["highlights"]


def test_streamed_chat_completion_sends_pieces_then_the_citations_then_done(http: httpx.Client) -> None:
    whole = http.post("/v1/chat/completions", json={"messages": [USER]}).json()
    events: list[str] = []
    with http.stream("POST", "/v1/chat/completions", json={"messages": [USER], "stream": True}) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        events = [line[len("data: ") :] for line in reply.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    pieces = [c["choices"][0]["delta"].get("content") or "" for c in chunks]
    assert sum(1 for p in pieces if p) >= 2  # streamed in pieces, not one blob
    # the same text as the whole answer (the stream may end in a newline the answer drops)
    assert "".join(pieces).strip() == whole["choices"][0]["message"]["content"]
    last = chunks[-1]
    assert last["choices"][0]["finish_reason"] == "stop"
    assert last["advisor"]["outcome"] == "answered" and last["advisor"]["citations"] == whole["advisor"]["citations"]


def test_search_returns_k_passages_and_index_reports_the_live_version(http: httpx.Client) -> None:
    reply = http.post("/v1/search", json={"query": "coding interview practice", "k": 2})
    assert reply.status_code == 200, reply.text
    passages = reply.json()["passages"]
    assert [p["rank"] for p in passages] == [1, 2]
    assert all(p["title"] and p["text"] and p["doc_id"] for p in passages)
    status = http.get("/v1/index").json()
    assert status["version"] and status["up_to_date"] is True
    assert status["documents"] == 5  # three essays and two resources


CHAT = "/v1/chat/completions"
BAD_REQUESTS: list[tuple[str, str, Any, int, str]] = [
    # (case, path, JSON body, status, words the message must hold)
    ("empty messages", CHAT, {"messages": []}, 400, "messages: List should have at least 1 item"),
    ("no messages", CHAT, {"model": "extractive"}, 400, "messages: Field required"),
    ("messages not a list", CHAT, {"messages": "hello"}, 400, "messages: Input should be a valid list"),
    ("message without content", CHAT, {"messages": [{"role": "user"}]}, 400, "last message must be a user message"),
    ("message not an object", CHAT, {"messages": ["hello"]}, 400, "messages.0"),
    ("unknown role", CHAT, {"messages": [{"role": "robot", "content": "hi"}]}, 400, "messages.0.role"),
    (
        "assistant speaks last",
        CHAT,
        {"messages": [USER, {"role": "assistant", "content": "Practise."}]},
        400,
        "last message must be a user message",
    ),
    ("blank question", CHAT, {"messages": [{"role": "user", "content": "   "}]}, 400, "user message with text"),
    ("k not a number", CHAT, {"messages": [USER], "k": "abc"}, 400, "k: Input should be a valid integer"),
    ("k negative", CHAT, {"messages": [USER], "k": -1}, 400, "k: Input should be greater than or equal to 1"),
    ("k too big", CHAT, {"messages": [USER], "k": 51}, 400, "k: Input should be less than or equal to 50"),
    (
        "stream not a flag",
        CHAT,
        {"messages": [USER], "stream": "maybe"},
        400,
        "stream: Input should be a valid boolean",
    ),
    ("unknown model", CHAT, {"model": "gpt-4o", "messages": [USER]}, 404, "No generator named 'gpt-4o'"),
    ("search k not a number", "/v1/search", {"query": "interviews", "k": "abc"}, 400, "k: Input should be"),
    ("search k negative", "/v1/search", {"query": "interviews", "k": -1}, 400, "greater than or equal to 1"),
    ("search empty query", "/v1/search", {"query": ""}, 400, "query: String should have at least 1 character"),
    ("search unknown field", "/v1/search", {"query": "x", "top": 3}, 400, "top: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "words"), [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
def test_bad_input_is_a_4xx_json_error_with_a_clear_message(
    server: RunningServer, http: httpx.Client, path: str, body: Any, status: int, words: str
) -> None:
    reply = http.post(path, json=body)
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert words in error["message"], error
    assert error["type"] in ("invalid_request_error", "model_not_found")
    assert_clean_log(server)


def test_body_that_is_not_json_is_named_as_such(server: RunningServer, http: httpx.Client) -> None:
    reply = http.post(CHAT, content=b"{not json", headers={"content-type": "application/json"})
    assert reply.status_code == 400
    assert "the request body is not valid JSON" in reply.json()["error"]["message"]
    assert_clean_log(server)


def _big_body() -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": "a" * 5_000_000}]}).encode()


def test_a_5_mb_body_is_refused_with_413_whether_its_length_is_declared_or_not(
    server: RunningServer, http: httpx.Client
) -> None:
    declared = http.post(CHAT, content=_big_body(), headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert "the limit is 1,000,000" in declared.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # a generator: httpx sends it chunked, without content-length
        body = _big_body()
        for start in range(0, len(body), 64_000):
            yield body[start : start + 64_000]

    chunked = http.post(CHAT, content=chunks(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert "over the 1,000,000-byte limit" in chunked.json()["error"]["message"]
    assert http.post(CHAT, json={"messages": [USER]}).status_code == 200  # the server is still fine
    assert_clean_log(server)


@pytest.mark.parametrize(
    ("path", "method"), [("/v1/models", "GET"), (CHAT, "POST"), ("/v1/search", "POST"), ("/mcp/", "POST")]
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-key", f"Basic {KEY}", KEY])
def test_a_missing_or_wrong_api_key_is_refused_with_401(
    keyed: RunningServer, path: str, method: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = httpx.request(method, keyed.url + path, json={"messages": [USER]}, headers=headers, timeout=60)
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert error["type"] == "authentication_error"
    assert "Authorization: Bearer <ADVISOR_BOT_API_KEY>" in error["message"]
    assert_clean_log(keyed)


def test_the_right_api_key_is_let_in_and_the_sdk_shows_a_wrong_one(keyed: RunningServer) -> None:
    assert "API key required for /v1 and /mcp" in keyed.log()
    right = {"Authorization": f"Bearer {KEY}"}
    assert httpx.get(keyed.url + "/v1/models", headers=right, timeout=60).status_code == 200
    reply = httpx.post(keyed.url + CHAT, json={"messages": [USER]}, headers=right, timeout=120)
    assert reply.status_code == 200 and "[1]" in reply.json()["choices"][0]["message"]["content"]
    assert httpx.get(keyed.url + "/", timeout=60).status_code == 200  # the key guards the API, not the page
    client = openai.OpenAI(base_url=keyed.url + "/v1", api_key="wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="missing or wrong API key"):
        client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": QUESTION}])
    assert_clean_log(keyed)


def test_tiny_root_is_served_not_the_checkout(server: RunningServer) -> None:
    assert (server.root / "index").is_dir() and Path(server.root, "advisor-bot.toml").is_file()
    assert "ready at " + server.url in server.log()


def test_the_api_answers_before_the_chat_page_has_loaded(tmp_path: Path) -> None:
    """`ready at` comes as soon as /v1 answers; the page follows ("chat page loaded") and until then
    `/` is the self-reloading "loading" page, not an error."""
    running = RunningServer(tiny_served_root(tmp_path, TINY), wait_for_page=False)
    try:
        saw_loading_page = False
        reply = httpx.post(
            running.url + "/v1/chat/completions",
            json={"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]},
            timeout=120,
        )
        assert reply.status_code == 200 and "[1]" in reply.json()["choices"][0]["message"]["content"]
        for _ in range(600):
            page = httpx.get(running.url + "/", timeout=30)
            if page.status_code == 200:
                break
            assert page.status_code == 503 and "loading" in page.text
            saw_loading_page = True
            time.sleep(0.1)
        assert page.status_code == 200 and "gradio" in page.text.lower()
        log = running.log()
        assert log.index("ready at") < log.index("chat page loaded")
        assert saw_loading_page or "chat page loaded" in log.split("ready at")[1]
    finally:
        running.stop()
