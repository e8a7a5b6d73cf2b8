"""The chat page loads after the server answers: "/" says it is loading, then Gradio takes over."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from advisor_bot.server.lazy_ui import LazyChatUI


async def call(app: Any, path: str, method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "client": ("127.0.0.1", 1),
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


def page_app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    def index() -> PlainTextResponse:
        return PlainTextResponse("the chat page")

    return app


def test_loading_page_then_the_real_one() -> None:
    release = threading.Event()  # stands in for Gradio's slow import, which the test controls
    said: list[str] = []

    def build() -> FastAPI:
        release.wait(10)
        return page_app()

    async def scenario() -> None:
        ui = LazyChatUI(build, say=said.append)
        loading = asyncio.create_task(ui.run())
        status, headers, body = await call(ui, "/")
        assert status == 503 and headers[b"retry-after"] == b"1"
        assert b'http-equiv="refresh"' in body and b"/v1" in body
        status, _, body = await call(ui, "/gradio_api/info")
        assert status == 503 and b"still loading" in body
        release.set()
        for _ in range(200):
            if ui.loaded:
                break
            await asyncio.sleep(0.01)
        assert await call(ui, "/") == (
            200,
            {b"content-length": b"13", b"content-type": b"text/plain; charset=utf-8"},
            b"the chat page",
        )
        ui.stop()
        await loading

    asyncio.run(scenario())
    assert said and said[0].startswith("chat page loaded")


def test_a_page_that_cannot_load_says_why_and_the_rest_keeps_serving() -> None:
    def build() -> FastAPI:
        raise ImportError("No module named 'gradio'")

    async def scenario() -> None:
        said: list[str] = []
        ui = LazyChatUI(build, say=said.append)
        await ui.run()
        status, _, body = await call(ui, "/")
        assert status == 500 and b"No module named 'gradio'" in body
        assert "could not be loaded" in said[0] and "/v1" in said[0]

    asyncio.run(scenario())
