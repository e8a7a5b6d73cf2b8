"""HTTP API: an OpenAI-compatible /v1/chat/completions and /v1/models, plus /v1/search and /v1/index.

Every call is independent: the conversation so far travels in `messages`. The reply text
carries the [n] markers; the citations (title, section, url, passage text, highlighted
sentences) and the outcome (answered / partial / refused / fell_back) ride along in an
`advisor` field that OpenAI clients ignore. `model` names a generator ("extractive", "local",
"openai_compat"). Bad input is a 4xx JSON error with our message, never a traceback.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import AdvisorError, UnknownGeneratorError
from ..records import Answer, Message

if TYPE_CHECKING:
    from ..advisor import Advisor

MAX_MESSAGES = 64
OWNER = "advisor-bot"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of OpenAI's request that mean something here; others are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("extractive", description="A generator name (GET /v1/models lists them).")
    messages: list[ChatMessage] = Field(..., min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve (default: the setting).")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., min_length=1, description="A standalone query.")
    k: int = Field(5, ge=1, le=50)
    mode: Literal["dense", "bm25", "hybrid"] | None = None


def error(status: int, message: str, *, kind: str = "invalid_request_error", param: str | None = None) -> JSONResponse:
    """An error in OpenAI's shape, so SDKs show our message."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": None}}, status)


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return content or ""


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[Message]]:
    """(the question: the last user message, the turns before it). System messages are the
    caller's instructions, not part of the conversation: they are left out."""
    turns = [m for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user" or not _text(turns[-1].content).strip():
        raise ValueError("the last message must be a user message with text")
    history: list[Message] = [{"role": m.role, "content": _text(m.content)} for m in turns[:-1]]
    return _text(turns[-1].content), history


def advisor_extra(answer: Answer) -> dict[str, Any]:
    """What OpenAI's format has no place for: the outcome, the citations, the standalone query."""
    data = answer.to_dict()
    return {
        key: data[key]
        for key in (
            "outcome",
            "coverage",
            "query",
            "corrected",
            "notice",
            "generator",
            "citations",
            "resources",
            "relevance",
            "index_version",
        )
    }


def router(advisor: Advisor) -> APIRouter:
    api = APIRouter(prefix="/v1")

    @api.get("/models")
    def models() -> dict[str, Any]:
        """The generators that can answer here, as OpenAI models."""
        now = int(time.time())
        return {
            "object": "list",
            "data": [
                {"id": name, "object": "model", "created": now, "owned_by": OWNER}
                for name in advisor.available_generators()
            ],
        }

    @api.post("/chat/completions", response_model=None)
    def chat(body: ChatRequest) -> Any:
        """Answer the last user message with cited passages (streamed as server-sent events
        when `stream` is true)."""
        try:
            question, history = split_messages(body.messages)
        except ValueError as exc:
            return error(400, str(exc), param="messages")
        try:
            stream = advisor.stream(question, history, generator=body.model, k=body.k)
        except UnknownGeneratorError as exc:
            return error(404, str(exc), kind="model_not_found", param="model")
        except AdvisorError as exc:
            return error(400, str(exc))
        ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if not body.stream:
            for _ in stream:
                pass
            assert stream.answer is not None
            return {
                "id": ident,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": stream.answer.text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                "advisor": advisor_extra(stream.answer),
            }
        return StreamingResponse(
            _events(stream, ident, body.model),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @api.post("/search")
    def search(body: SearchRequest) -> Any:
        """The passages a standalone query retrieves, best first (no answer is written)."""
        try:
            passages = advisor.retrieve(body.query, body.k, mode=body.mode)
        except AdvisorError as exc:
            return error(400, str(exc), param="query")
        return {"query": body.query, "passages": [p.to_dict() for p in passages]}

    @api.get("/index")
    def index_status() -> dict[str, Any]:
        """The live index version and what in corpus/ is not in it yet."""
        return advisor.status().to_dict()

    return api


def _events(stream: Any, ident: str, model: str) -> Iterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for piece in stream:
        yield chunk({"content": piece})
    answer = stream.answer
    yield chunk({}, "stop", advisor=advisor_extra(answer) if answer is not None else None)
    yield "data: [DONE]\n\n"


def install_error_handlers(app: Any) -> None:
    """Validation errors as one clear 400 (OpenAI's shape), without tracebacks in the log."""
    from fastapi.exceptions import RequestValidationError

    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        broken = next((e for e in exc.errors() if e.get("type") == "json_invalid"), None)
        if broken is not None:  # its loc is ("body", <character offset>): no field to name
            why = (broken.get("ctx") or {}).get("error", "decode error")
            return error(400, f"the request body is not valid JSON ({why} at character {broken['loc'][-1]})")
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        first = exc.errors()[0] if exc.errors() else {}
        param = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
        return error(400, "; ".join(problems) or "invalid request", param=param)

    app.add_exception_handler(RequestValidationError, invalid)
