"""The chat page, loaded after the server is already answering.

Importing Gradio and building the page take several seconds on a laptop CPU, and none of it is
needed to answer a question through /v1, MCP or the CLI. So the server starts listening first
and loads the page in the background; until it is there, `/` is a small page that says so and
reloads itself every second, and Gradio's own routes answer 503 with Retry-After. Once loaded,
every request goes straight to Gradio.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from ..settings import Settings

STARTING_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="1">
<title>advisor-bot is starting</title>
<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:36rem;color:#333}</style></head>
<body><h1>advisor-bot</h1><p>The chat page is loading; this page reloads itself in a second.</p>
<p>The API (<code>/v1</code>) and MCP (<code>/mcp</code>) already answer.</p></body></html>
"""


class LazyChatUI:
    """An ASGI app that serves Gradio once `load()` has built it, and a "starting" reply before."""

    def __init__(self, build: Callable[[], Any], *, say: Callable[[str], None] | None = None) -> None:
        self._build = build  # returns a FastAPI app with the Gradio page mounted at /
        self._say = say
        self.app: Any = None
        self.error: BaseException | None = None
        self._stop = asyncio.Event()

    @property
    def loaded(self) -> bool:
        return self.app is not None

    async def run(self) -> None:
        """Build the page in a worker thread, then keep Gradio's own lifespan open until stop()."""
        started = time.perf_counter()
        try:
            holder = await asyncio.to_thread(self._build)
        except Exception as exc:  # the API keeps serving; the page says what went wrong
            self.error = exc
            if self._say:
                self._say(f"the chat page could not be loaded ({type(exc).__name__}: {exc}); /v1 and /mcp still answer")
            return
        async with holder.router.lifespan_context(holder):
            self.app = holder
            if self._say:
                self._say(f"chat page loaded ({time.perf_counter() - started:.1f} s)")
            await self._stop.wait()

    def stop(self) -> None:
        self._stop.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is not None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        if scope["type"] != "http":
            return
        if self.error is not None:
            body = json.dumps({"error": f"the chat page could not be loaded: {self.error}"}).encode()
            await _reply(send, 500, body, b"application/json")
        elif scope.get("path", "/") in ("", "/") and scope.get("method") in ("GET", "HEAD"):
            await _reply(send, 503, STARTING_PAGE, b"text/html; charset=utf-8")
        else:
            body = json.dumps({"error": "the chat page is still loading; retry in a second"}).encode()
            await _reply(send, 503, body, b"application/json")


async def _reply(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if status == 503:
        headers.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def gradio_app(advisor: Any, settings: Settings, login: Callable[[str, str], bool] | None) -> Any:
    """A FastAPI app holding the Gradio chat page at / (imports Gradio: seconds, so run it off the loop)."""
    import gradio as gr
    from fastapi import FastAPI

    from .ui import CSS, JS, build_ui

    holder = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    return gr.mount_gradio_app(
        holder,
        build_ui(advisor),
        path="/",
        auth=login,
        auth_message="advisor-bot: log in to continue",
        max_file_size=settings.corpus.max_file_bytes,
        css=CSS,
        js=JS,
        show_error=True,
        footer_links=["api"],
    )
