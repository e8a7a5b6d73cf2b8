"""Any server speaking OpenAI's /v1/chat/completions: OpenAI, vLLM, Ollama, llama.cpp's server.

Through the official `openai` SDK: streaming, connect and read timeouts, and retries with
backoff (honouring Retry-After) on refused connections, 429 and 5xx before any text arrives.
A stream that ends without a finish reason was cut and counts as a failure. The API key is
read from the environment variable named by `api_key_env` and never appears in logs, errors,
the UI or Answer.to_dict().
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import GeneratorError
from ..records import Evidence, Query
from . import BaseGenerator, Setup
from .prompts import ContextMode, build_messages, condense_messages


class OpenAICompatOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field("http://127.0.0.1:8080/v1", description="The server's /v1 address.")
    model: str = Field("default", description="Model name sent to the server.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the key (never logged).")
    connect_timeout: float = Field(5.0, gt=0, le=600, description="Seconds to connect.")
    read_timeout: float = Field(60.0, gt=0, le=3600, description="Seconds to wait for the next piece of text.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries on refused connections, 429 and 5xx.")
    max_tokens: int = Field(400, ge=8, le=32_768, description="Answer length at most.")
    context: ContextMode = Field("statements", description="'statements' (selected sentences) or 'passages'.")
    context_tokens: int = Field(1500, ge=32, le=1_000_000, description="Token budget for the sources in the prompt.")
    temperature: float = Field(0.2, ge=0, le=2, description="Sampling temperature.")


class OpenAICompatGenerator(BaseGenerator):
    name = "openai_compat"
    Options = OpenAICompatOptions
    can_condense = True

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.options: OpenAICompatOptions = setup.options
        self.base_url = self.options.base_url.rstrip("/")

    @classmethod
    def missing(cls, setup: Setup) -> list[str]:
        import importlib.util

        return (
            [] if importlib.util.find_spec("openai") else ["the openai package is not installed (pip install openai)"]
        )

    def _key(self) -> str | None:
        name = self.options.api_key_env
        return (os.environ.get(name) or None) if name else None

    def _client(self) -> Any:
        from openai import OpenAI, Timeout

        o = self.options
        timeout = Timeout(connect=o.connect_timeout, read=o.read_timeout, write=o.read_timeout, pool=o.connect_timeout)
        # servers without auth still get a syntactically valid header
        return OpenAI(
            base_url=self.base_url, api_key=self._key() or "no-key", timeout=timeout, max_retries=o.max_retries
        )

    def generate(self, query: Query, evidence: Evidence) -> Iterator[str]:
        o = self.options
        messages = build_messages(query, evidence, context=o.context, budget_tokens=o.context_tokens)
        yield from self._stream(messages, o.max_tokens, o.temperature)

    def condense(self, query: Query) -> str:
        return "".join(self._stream(condense_messages(query), 48, 0.0))

    def _stream(self, messages: list[dict[str, str]], max_tokens: int, temperature: float) -> Iterator[str]:
        import openai

        got_text = False
        finished = False
        try:
            stream = self._client().chat.completions.create(
                model=self.options.model, messages=messages, stream=True, max_tokens=max_tokens, temperature=temperature
            )
            for chunk in stream:
                choices = chunk.choices or []
                if not choices:
                    continue
                piece = choices[0].delta.content if choices[0].delta else None
                finished = finished or bool(choices[0].finish_reason)
                if piece:
                    got_text = True
                    yield piece
        except openai.APITimeoutError as exc:
            raise self._fail(
                f"{self.base_url} sent nothing for {self.options.read_timeout:g}s", "read timeout"
            ) from exc
        except openai.APIConnectionError as exc:
            cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
            if cause in ("RemoteProtocolError", "ReadError"):
                raise self._fail(
                    f"{self.base_url} closed the connection mid-answer ({exc.__cause__})", "closed mid-stream"
                ) from exc
            raise self._fail(
                f"cannot connect to {self.base_url} ({exc}); start the server there, or point "
                "generators.openai_compat.base_url (ADVISOR_BOT_GENERATORS__OPENAI_COMPAT__BASE_URL) at one",
                "connection refused",
            ) from exc
        except openai.APIStatusError as exc:
            body = exc.response.text[:200] if exc.response is not None else str(exc)
            raise self._fail(
                f"{self.base_url} answered HTTP {exc.status_code}: {body}", f"HTTP {exc.status_code}"
            ) from exc
        except (json.JSONDecodeError, openai.APIResponseValidationError, ValueError) as exc:
            raise self._fail(f"{self.base_url} sent a malformed event ({exc})", "malformed reply") from exc
        except openai.OpenAIError as exc:
            raise self._fail(
                f"request to {self.base_url} failed ({type(exc).__name__}: {exc})", type(exc).__name__
            ) from exc
        if not got_text:
            raise self._fail(f"{self.base_url} streamed no text", "empty reply")
        if not finished:
            raise self._fail(
                f"{self.base_url} closed the connection mid-answer (no finish reason)", "closed mid-stream"
            )

    def _fail(self, message: str, kind: str) -> GeneratorError:
        key = self._key()
        if key:
            message = message.replace(key, "***")
        return GeneratorError(message, kind=kind, where=self.base_url)
