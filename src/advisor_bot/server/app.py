"""One ASGI app, three doors: the chat UI at /, the HTTP API under /v1, MCP under /mcp.

    advisor-bot serve  ->  uvicorn  ->  Guard (login backoff, API key, body cap)  ->  FastAPI
                                                                                      ├── /v1/...  (api.py)
                                                                                      ├── /mcp     (mcp_server.py)
                                                                                      └── /        (ui.py, Gradio)

The app holds no per-user state outside a request (the UI's conversation lives in the
browser session), so several replicas can serve one index folder behind a load balancer;
each replica picks up a new index version on its next request (index/live.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from ..settings import Settings
from .access import Access, Guard, LoginThrottle, access_for
from .api import install_error_handlers, router
from .lazy_ui import LazyChatUI, gradio_app

if TYPE_CHECKING:
    from ..advisor import Advisor

log = logging.getLogger("advisor_bot")


def say(message: str) -> None:
    print(f"advisor-bot: {message}", file=sys.stderr, flush=True)


def create_app(advisor: Advisor, access: Access, *, with_ui: bool = True, with_mcp: bool = True) -> Any:
    """The whole server as an ASGI app (FastAPI wrapped in the access guard).

    The chat page loads in the background once the server runs (lazy_ui.py): the API and MCP
    answer from the start, and `/` says the page is loading until it is there."""
    lifespans: list[Any] = []
    mcp_app = None
    if with_mcp:
        from .mcp_server import build_mcp

        mcp = build_mcp(advisor)
        # host: the SDK's DNS-rebinding check (Host must be localhost) only when bound to this machine;
        # bound beyond it, clients and proxies send their own Host and the API key guards /mcp.
        mcp_app = mcp.streamable_http_app(
            streamable_http_path="/", stateless_http=True, json_response=True, host=advisor.settings.ui.host
        )
        lifespans.append(mcp.session_manager.run)
    chat: LazyChatUI | None = None
    if with_ui:
        settings = advisor.settings
        chat = LazyChatUI(lambda: gradio_app(advisor, settings, access.check_login if access.login else None), say=say)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            for run in lifespans:
                await stack.enter_async_context(run())
            loading = asyncio.create_task(chat.run()) if chat is not None else None
            try:
                yield
            finally:
                if chat is not None and loading is not None:
                    chat.stop()
                    if not chat.loaded:
                        loading.cancel()  # stopped while Gradio was still importing
                    with contextlib.suppress(asyncio.CancelledError):
                        await loading

    app = FastAPI(
        title="advisor-bot",
        version=_version(),
        lifespan=lifespan,
        description="Cited answers about getting into AI research and careers: an OpenAI-compatible "
        "chat API, passage search, index status, and MCP at /mcp.",
    )
    install_error_handlers(app)
    app.include_router(router(advisor))
    if mcp_app is not None:
        app.mount("/mcp", mcp_app)
    if chat is not None:
        app.mount("/", chat)
    return Guard(_mcp_without_slash(app), access, LoginThrottle())


def _mcp_without_slash(app: Any) -> Any:
    """/mcp answered like /mcp/ (the mount only matches below it, and clients are configured with either)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") == "/mcp":
            scope = {**scope, "path": "/mcp/", "raw_path": b"/mcp/"}
        await app(scope, receive, send)

    return asgi


def serve(settings: Settings, *, no_auth: bool = False) -> None:
    """Open (or build) the index, then serve the UI, the API and MCP; says when it is usable."""
    import uvicorn

    from ..advisor import Advisor

    access = access_for(settings, no_auth=no_auth)
    say(f"opening the index in {settings.index_path} ...")
    advisor = Advisor.load(settings, say=say, progress=sys.stderr.isatty())
    for problem in advisor.problems:
        say(f"skipped {problem}")
    say("loading the embedding model ...")
    advisor.retrieve("warm up")  # loads the encoder now, not on the first question
    app = create_app(advisor, access)
    host, port = settings.ui.host, settings.ui.port
    if access.login:
        say("login required for the chat (ADVISOR_BOT_USERNAME / ADVISOR_BOT_PASSWORD)")
    if access.api_key:
        say("API key required for /v1 and /mcp (ADVISOR_BOT_API_KEY)")
    if access.open_beyond_localhost:
        why = "--no-auth" if no_auth else "ui.require_auth_off_localhost = false"
        say(
            f"WARNING: serving on {host} without a login ({why}): anyone who can reach this machine can "
            "use the chat and add essays"
        )
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                say(f"ready at http://{shown}:{port}")

    # keep-alive longer than a proxy's (nginx keeps idle upstream connections 60 s by default;
    # deploy/nginx sets 30 s): otherwise the app may close a connection the proxy is reusing,
    # and the proxy answers that request with 502 (bench/load.py --api-through-nginx saw 1 in 2,510)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=75,
    )
    Server(config).run()


def _version() -> str:
    from .. import __version__

    return __version__
