"""Any server speaking OpenAI's /v1/chat/completions: OpenAI, vLLM, Ollama, llama.cpp's server.

Streams server-sent events; connect and read timeouts; bounded retries with exponential
backoff (honouring Retry-After) on refused connections, 429 and 5xx, but only before any
text has been streamed. The API key is read from the environment variable named by
openai_api_key_env and never appears in logs, errors, the UI or Answer.to_dict().
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import GeneratorError
from ..prompts import build_messages, condense_messages

if TYPE_CHECKING:
    from ..records import Passage
    from ..settings import Settings
    from . import GeneratorContext, Message

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 8.0


class OpenAICompatGenerator:
    name = "openai_compat"

    def __init__(self, settings: Settings, *, backoff: float = 0.5) -> None:
        self.settings = settings
        self.base_url = settings.openai_base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.backoff = backoff

    def _key(self) -> str | None:
        name = self.settings.openai_api_key_env
        return os.environ.get(name) or None if name else None

    def _fail(self, message: str, kind: str) -> GeneratorError:
        key = self._key()
        if key:
            message = message.replace(key, "***")
        return GeneratorError(message, kind=kind, where=self.base_url)

    def _headers(self) -> dict[str, str]:
        key = self._key()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _timeout(self) -> Any:
        import httpx

        s = self.settings
        return httpx.Timeout(connect=s.openai_connect_timeout, read=s.openai_read_timeout,
                             write=s.openai_read_timeout, pool=s.openai_connect_timeout)

    def generate(self, question: str, passages: Sequence[Passage], history: Sequence[Message]) -> Iterator[str]:
        s = self.settings
        payload = {
            "model": s.openai_model,
            "messages": build_messages(question, passages, history, budget_tokens=s.openai_context_tokens),
            "stream": True,
            "max_tokens": s.openai_max_tokens,
            "temperature": s.openai_temperature,
        }
        yield from self._stream(payload)

    def condense(self, question: str, history: Sequence[Message]) -> str:
        payload = {"model": self.settings.openai_model, "messages": condense_messages(question, history),
                   "stream": True, "max_tokens": 48, "temperature": 0.0}
        return "".join(self._stream(payload))

    def _stream(self, payload: dict[str, Any]) -> Iterator[str]:
        import httpx

        retries = max(self.settings.openai_max_retries, 0)
        with httpx.Client(timeout=self._timeout()) as client:
            for attempt in range(retries + 1):
                last = attempt == retries
                try:
                    with client.stream("POST", self.url, json=payload, headers=self._headers()) as response:
                        if response.status_code in RETRY_STATUS and not last:
                            self._sleep(attempt, response.headers.get("retry-after"))
                            continue
                        if response.status_code >= 400:
                            body = response.read().decode("utf-8", "replace")[:200]
                            raise self._fail(f"{self.url} answered HTTP {response.status_code}: {body}",
                                             kind=f"HTTP {response.status_code}")
                        yield from self._events(response)
                        return
                except httpx.ConnectError as exc:
                    if not last:
                        self._sleep(attempt, None)
                        continue
                    raise self._fail(f"cannot connect to {self.base_url} ({exc})", kind="connection refused") from exc
                except httpx.ConnectTimeout as exc:
                    if not last:
                        self._sleep(attempt, None)
                        continue
                    raise self._fail(f"no connection to {self.base_url} within "
                                     f"{self.settings.openai_connect_timeout:g}s", kind="connect timeout") from exc
                except httpx.ReadTimeout as exc:
                    raise self._fail(f"{self.base_url} sent nothing for {self.settings.openai_read_timeout:g}s",
                                     kind="read timeout") from exc
                except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    raise self._fail(f"{self.base_url} closed the connection mid-answer ({exc})",
                                     kind="closed mid-stream") from exc
                except httpx.HTTPError as exc:
                    raise self._fail(f"request to {self.base_url} failed ({type(exc).__name__}: {exc})",
                                     kind=type(exc).__name__) from exc

    def _events(self, response: Any) -> Iterator[str]:
        """Text deltas from an SSE stream (or from one JSON body, for servers that ignore stream)."""
        got_any = False
        if "text/event-stream" not in response.headers.get("content-type", "text/event-stream"):
            body = response.read()
            try:
                text = json.loads(body)["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise self._fail(f"{self.url} sent a reply that is not a chat completion: {body[:120]!r}",
                                 kind="malformed reply") from exc
            if text:
                yield str(text)
                return
            raise self._fail(f"{self.url} sent an empty answer", kind="empty reply")
        finished = False  # a [DONE] line or a finish_reason: anything else ending the stream is a cut
        for line in response.iter_lines():
            line = line.strip()
            if not line or line.startswith(":") or not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                finished = True
                break
            try:
                event = json.loads(data)
                if "error" in event:
                    raise self._fail(f"{self.url} reported an error: {str(event['error'])[:200]}", kind="server error")
                choices = event.get("choices") or []
                piece = (choices[0].get("delta") or {}).get("content") if choices else None
                finished = finished or bool(choices and choices[0].get("finish_reason"))
            except (ValueError, AttributeError, TypeError) as exc:
                raise self._fail(f"{self.url} sent a malformed event: {data[:120]!r}", kind="malformed reply") from exc
            if piece:
                got_any = True
                yield str(piece)
        if not got_any:
            raise self._fail(f"{self.url} streamed no text", kind="empty reply")
        if not finished:
            raise self._fail(f"{self.base_url} closed the connection mid-answer (no [DONE])", kind="closed mid-stream")

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff * (2 ** attempt)
        if retry_after:
            with contextlib.suppress(ValueError):
                delay = float(retry_after)
        time.sleep(min(max(delay, 0.0), MAX_BACKOFF))


def make_generator(context: GeneratorContext) -> OpenAICompatGenerator:
    return OpenAICompatGenerator(context.settings)


def unavailable_reason(context: GeneratorContext) -> str | None:
    import importlib.util

    if importlib.util.find_spec("httpx") is None:
        return "httpx is not installed (pip install httpx)."
    return None


make_generator.unavailable_reason = unavailable_reason  # type: ignore[attr-defined]
