"""Real clients against a real `advisor-bot serve`: the official openai SDK and the `llm` CLI on
the OpenAI-compatible /v1, and gradio_client on the named Gradio endpoints (/ask, /search,
/export, /feedback). Each call is independent: what a call knows comes with the call."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import TINY
from helpers import RunningServer, clean_env, tiny_served_root
from openai.types.chat import ChatCompletionUserMessageParam

from advisor_bot import Settings

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client", reason="pip install -e '.[test]'")
from gradio_client.exceptions import AppError  # noqa: E402 - after the skip

QUESTION = "how do I prepare for an ML interview?"
PHD = "How should I choose a PhD supervisor?"
QUESTIONS = [
    QUESTION,
    PHD,
    "How do I read papers fast?",
    "What should I practice for coding interviews?",
    "How do I explain my personal project in an interview?",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`advisor-bot serve` on the tiny corpus, open on 127.0.0.1."""
    root = tiny_served_root(tmp_path_factory.mktemp("clients"), TINY)
    running = RunningServer(root, env={"GRADIO_TEMP_DIR": str(root / "gradio-uploads")})
    yield running
    running.stop()


@pytest.fixture(scope="module")
def sdk(server: RunningServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url + "/v1", api_key="not-needed-on-localhost", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def gradio(server: RunningServer) -> Iterator[Any]:
    client = gradio_client.Client(server.url + "/", verbose=False)
    yield client
    client.close()  # its open connection would hold up the server's shutdown


def user(text: str) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": text}


def advisor_field(reply: Any) -> dict[str, Any]:
    """The `advisor` extra of a reply or chunk (the SDK keeps unknown fields in model_extra)."""
    extra = reply.model_extra or {}
    assert "advisor" in extra, f"no advisor field in {reply}"
    value: dict[str, Any] = extra["advisor"]
    return value


def assert_cited(text: str, extra: dict[str, Any]) -> None:
    assert "[1]" in text
    assert extra["outcome"] == "answered"
    assert extra["citations"], extra
    for citation in extra["citations"]:
        for key in ("title", "section", "url", "text", "highlights"):
            assert key in citation, (key, citation)
        assert citation["title"] and citation["url"] and citation["text"] and citation["highlights"]
        for start, end in citation["highlights"]:
            assert 0 <= start < end <= len(citation["text"])


# ---------- the openai SDK ----------


def test_openai_sdk_gets_a_cited_answer(sdk: openai.OpenAI) -> None:
    reply = sdk.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    text = reply.choices[0].message.content or ""
    extra = advisor_field(reply)
    assert_cited(text, extra)
    assert extra["query"] == QUESTION and reply.model == "extractive"


def test_openai_sdk_streams_a_cited_answer(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(model="extractive", messages=[user(QUESTION)], stream=True)
    pieces: list[str] = []
    extras: list[dict[str, Any]] = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if (chunk.model_extra or {}).get("advisor"):
            extras.append(advisor_field(chunk))
    assert len(pieces) >= 2  # arrived in pieces
    assert len(extras) == 1  # the citations come once, with the last chunk
    assert_cited("".join(pieces), extras[0])
    whole = sdk.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    assert "".join(pieces).strip() == whole.choices[0].message.content
    assert extras[0]["citations"] == advisor_field(whole)["citations"]


def test_openai_sdk_lists_the_models(sdk: openai.OpenAI) -> None:
    assert "extractive" in [m.id for m in sdk.models.list()]


def test_calls_are_independent(sdk: openai.OpenAI) -> None:
    """History comes only from `messages`: answers to different questions do not mix, and
    asking again after another question gives the first answer again."""
    first = sdk.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    other = sdk.chat.completions.create(model="extractive", messages=[user(PHD)])
    again = sdk.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    first_extra, other_extra = advisor_field(first), advisor_field(other)
    assert other_extra["query"] == PHD  # not rewritten with the earlier question
    assert {c["doc_id"] for c in other_extra["citations"]} == {"phd-supervisor"}
    assert "phd-supervisor" not in {c["doc_id"] for c in first_extra["citations"]}
    assert "supervisor" not in (first.choices[0].message.content or "").lower()
    assert again.choices[0].message.content == first.choices[0].message.content
    assert advisor_field(again)["citations"] == first_extra["citations"]


def test_a_follow_up_in_messages_is_condensed(sdk: openai.OpenAI) -> None:
    first = sdk.chat.completions.create(model="extractive", messages=[user(QUESTION)])
    follow_up = "what about the projects part?"
    messages: Any = [
        {"role": "system", "content": "Answer briefly."},  # instructions, not conversation: ignored
        user(QUESTION),
        {"role": "assistant", "content": first.choices[0].message.content},
        user(follow_up),
    ]
    reply = sdk.chat.completions.create(model="extractive", messages=messages)
    extra = advisor_field(reply)
    assert extra["query"] != follow_up and "interview" in extra["query"].lower()
    alone = advisor_field(sdk.chat.completions.create(model="extractive", messages=[user(follow_up)]))
    assert alone["query"] == follow_up  # without the history there is nothing to condense with


def test_openai_sdk_shows_our_message_for_an_unknown_model(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="No generator named 'gpt-4o'"):
        sdk.chat.completions.create(model="gpt-4o", messages=[user(QUESTION)])
    with pytest.raises(openai.BadRequestError, match="last message must be a user message"):
        sdk.chat.completions.create(model="extractive", messages=[{"role": "assistant", "content": "Hi."}])


# ---------- the llm CLI ----------


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_llm_cli_answers_with_citations(server: RunningServer, tmp_path: Path, stream: bool) -> None:
    """`llm -m advisor` with the model declared in LLM_USER_PATH/extra-openai-models.yaml."""
    (tmp_path / "extra-openai-models.yaml").write_text(
        f'- model_id: advisor\n  model_name: extractive\n  api_base: "{server.url}/v1"\n', encoding="utf-8"
    )
    env = clean_env(LLM_USER_PATH=str(tmp_path))
    env.pop("OPENAI_API_KEY", None)
    command = [sys.executable, "-m", "llm", "-m", "advisor", *([] if stream else ["--no-stream"]), QUESTION]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert "[1]" in done.stdout and "Interview" in done.stdout, done.stdout
    assert "Traceback" not in server.log()


# ---------- gradio_client ----------


def test_gradio_api_names_its_endpoints_inputs_and_outputs(gradio: Any) -> None:
    api = gradio.view_api(return_format="dict", print_info=False)
    named = {
        name: ([p["parameter_name"] for p in e["parameters"]], [r["label"] for r in e["returns"]])
        for name, e in api["named_endpoints"].items()
    }
    assert named == {
        "/ask": (["question", "history", "generator", "k"], ["answer", "sources", "record"]),
        "/search": (["query", "k"], ["passages"]),
        "/export": (["conversation"], ["conversation"]),
        "/feedback": (["rating", "answer"], ["status"]),
    }
    assert not api["unnamed_endpoints"]  # the chat's own events stay private


def ask(gradio: Any, question: str, **kw: Any) -> tuple[str, str, dict[str, Any]]:
    args: dict[str, Any] = {"history": [], "generator": "extractive", "k": 3, **kw}
    answer, sources, record = gradio.predict(question=question, api_name="/ask", **args)
    return answer, sources, record


def test_gradio_ask_is_stateless(gradio: Any) -> None:
    """Five calls with history=[] each answer only their own question, with only their sources."""
    records = []
    for question in QUESTIONS:
        answer, sources, record = ask(gradio, question)
        assert record["question"] == question and record["query"] == question
        assert sources.count("class='answer-sources'") == 1  # one answer's sources, not a session's
        assert f"for: {html.escape(question)}" in sources
        for other in QUESTIONS:
            if other != question:
                assert html.escape(other) not in sources and other not in answer
        records.append(record)
    answer, _, again = ask(gradio, QUESTION)
    assert "[1]" in again["text"] and "(#source-0-1)" in answer  # the markdown links [1] to its card
    assert again["text"] == records[0]["text"]  # asked again: the same answer


def test_gradio_search_returns_k_passages(gradio: Any) -> None:
    passages = gradio.predict(query="coding interview practice", k=2, api_name="/search")
    assert [p["rank"] for p in passages] == [1, 2]
    assert all(p["title"] and p["text"] for p in passages)


def test_gradio_export_returns_a_markdown_file_of_only_that_conversation(gradio: Any) -> None:
    records = [ask(gradio, q)[2] for q in QUESTIONS[:2]]
    path = Path(gradio.predict(conversation=[records[0]], api_name="/export"))
    assert path.suffix == ".md" and path.is_file()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# advisor-bot conversation")
    assert f"## {QUESTION}" in text and "[1]" in text
    assert all(q not in text for q in QUESTIONS[1:])
    both = Path(gradio.predict(conversation=records, api_name="/export")).read_text(encoding="utf-8")
    assert both.index(f"## {QUESTION}") < both.index(f"## {PHD}")


def test_gradio_feedback_appends_to_the_served_roots_feedback_log(server: RunningServer, gradio: Any) -> None:
    log = server.root / "data" / "feedback.jsonl"
    before = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    record = ask(gradio, QUESTION)[2]
    assert gradio.predict(rating="up", answer=record, api_name="/feedback") == "recorded up"
    assert gradio.predict(rating="down", answer=record, api_name="/feedback") == "recorded down"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[: len(before)] == before  # appended, nothing rewritten
    added = [json.loads(line) for line in lines[len(before) :]]
    assert [a["rating"] for a in added] == ["up", "down"]
    assert all(a["answer"]["question"] == QUESTION and a["answer"]["text"] == record["text"] for a in added)


@pytest.mark.parametrize(
    ("endpoint", "arguments", "words"),
    [
        (
            "/ask",
            {"question": QUESTION, "history": [], "generator": "extractive", "k": "abc"},
            "k must be a whole number",
        ),
        ("/ask", {"question": QUESTION, "history": [], "generator": "extractive", "k": 0}, "k must be from 1 to 50"),
        (
            "/ask",
            {"question": QUESTION, "history": [], "generator": "extractive", "k": 50.5},
            "k must be a whole number",
        ),
        ("/ask", {"question": QUESTION, "history": [], "generator": "extractive", "k": 51}, "k must be from 1 to 50"),
        ("/ask", {"question": QUESTION, "history": "hi", "generator": "extractive", "k": 3}, "history must be a list"),
        ("/ask", {"question": QUESTION, "history": [], "generator": "gpt-4o", "k": 3}, "No generator named"),
        ("/ask", {"question": "", "history": [], "generator": "extractive", "k": 3}, "The question is empty"),
        ("/search", {"query": "interviews", "k": -1}, "k must be from 1 to 50"),
        ("/export", {"conversation": "not a list"}, "conversation must be a list of answers"),
        ("/export", {"conversation": []}, "conversation is empty"),
        ("/feedback", {"rating": "meh", "answer": {"question": "q", "text": "t"}}, "rating must be one of"),
        ("/feedback", {"rating": "up", "answer": "nope"}, "answer must be the `record` output of /ask"),
    ],
    ids=[
        "k-abc",
        "k-0",
        "k-50.5",
        "k-51",
        "history-not-list",
        "unknown-generator",
        "empty-question",
        "search-k-negative",
        "export-not-list",
        "export-empty",
        "feedback-rating",
        "feedback-answer",
    ],
)
def test_gradio_bad_input_is_a_clear_error_without_a_traceback(
    server: RunningServer, gradio: Any, endpoint: str, arguments: dict[str, Any], words: str
) -> None:
    with pytest.raises(AppError) as caught:
        gradio.predict(api_name=endpoint, **arguments)
    message = str(caught.value)
    assert words in message and message.strip(), message
    assert "Traceback" not in message
    assert "Traceback" not in server.log(), server.log()


def test_an_upload_over_the_size_cap_is_refused_and_not_kept(server: RunningServer) -> None:
    """Gradio's own upload route is capped at corpus.max_file_bytes; a refused file leaves nothing in its cache."""
    import httpx

    cap = Settings.load(server.root, env={}).corpus.max_file_bytes
    cache = server.root / "gradio-uploads"
    before = sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []
    files = {"files": ("huge.md", b"# Huge\n\n" + b"word " * (cap // 5 + 10), "text/markdown")}
    reply = httpx.post(server.url + "/gradio_api/upload", files=files, timeout=60)
    assert reply.status_code == 413, reply.text
    after = sorted(p for p in cache.rglob("*") if p.is_file()) if cache.exists() else []
    assert after == before
    small = httpx.post(server.url + "/gradio_api/upload", files={"files": ("ok.md", b"# Ok\n\nFine.\n")}, timeout=60)
    assert small.status_code == 200, small.text  # the cap, not the route, refused the big one


def test_lone_surrogates_through_gradio_and_the_api_are_answered(server: RunningServer) -> None:
    """A browser's JSON.stringify sends a lone surrogate as "\\ud800" (gradio_client cannot send one
    at all); both the page's API and /v1 replace it and answer, never `{"error": null}`."""
    import httpx

    headers = {"content-type": "application/json"}
    body = '{"data": ["coding interview \\ud800 practice", [], "extractive", 3]}'
    called = httpx.post(server.url + "/gradio_api/call/ask", content=body, headers=headers, timeout=60)
    assert called.status_code == 200, called.text
    events = httpx.get(server.url + "/gradio_api/call/ask/" + called.json()["event_id"], timeout=120).text
    assert "event: complete" in events and "[1]" in events, events
    body = '{"model": "extractive", "messages": [{"role": "user", "content": "coding interview \\ud800 practice"}]}'
    reply = httpx.post(server.url + "/v1/chat/completions", content=body, headers=headers, timeout=120)
    assert reply.status_code == 200 and "[1]" in reply.json()["choices"][0]["message"]["content"]
    assert "Traceback" not in server.log()
