"""Who may use a server bound beyond this machine, and how much they may send.

- The chat UI needs a login (ADVISOR_BOT_USERNAME / ADVISOR_BOT_PASSWORD) beyond 127.0.0.1,
  unless auth is turned off on purpose (--no-auth or ui.require_auth_off_localhost = false).
- The HTTP API and MCP need a bearer token (ADVISOR_BOT_API_KEY) under the same rule; a key
  that is set is always required.
- A client that keeps failing to log in waits longer each time (per-client backoff).
- Request bodies of the API and MCP are capped; a bigger one is refused with 413.
"""

from __future__ import annotations

import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import SettingsError
from ..settings import API_KEY_ENV, AUTH_PASSWORD_ENV, AUTH_USER_ENV, Settings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
API_PREFIXES = ("/v1", "/mcp")
MAX_API_BODY = 1_000_000  # bytes: a question and a long conversation fit many times over
FREE_FAILURES = 3  # failed logins before a client has to wait
MAX_BACKOFF = 300.0  # seconds


@dataclass(frozen=True)
class Access:
    """The login and API key a server enforces (None: open)."""

    login: tuple[str, str] | None
    api_key: str | None
    open_beyond_localhost: bool  # served beyond this machine without a login, on purpose

    def check_login(self, username: str, password: str) -> bool:
        if self.login is None:
            return True
        user_ok = hmac.compare_digest(username.encode(), self.login[0].encode())
        return hmac.compare_digest(password.encode(), self.login[1].encode()) and user_ok


def access_for(settings: Settings, *, no_auth: bool, env: Mapping[str, str] | None = None) -> Access:
    """What the server at settings.ui.host must require; SettingsError when it would be open
    to the network by accident."""
    env = os.environ if env is None else env
    user, password = env.get(AUTH_USER_ENV, ""), env.get(AUTH_PASSWORD_ENV, "")
    api_key = env.get(API_KEY_ENV) or None
    local = settings.ui.host in LOCAL_HOSTS
    opted_out = no_auth or not settings.ui.require_auth_off_localhost
    login = (user, password) if user and password else None
    if not local and not opted_out:
        missing = []
        if login is None:
            missing.append(f"{AUTH_USER_ENV} and {AUTH_PASSWORD_ENV} (the chat's login)")
        if api_key is None:
            missing.append(f"{API_KEY_ENV} (the API's bearer token)")
        if missing:
            raise SettingsError(
                f"--host {settings.ui.host} makes the server reachable from other machines; set "
                f"{' and '.join(missing)}, or pass --no-auth to serve it open on purpose."
            )
    return Access(login=login, api_key=api_key, open_beyond_localhost=not local and login is None)


class LoginThrottle:
    """Per-client backoff after failed logins: from the FREE_FAILURES-th failure on, the client waits
    (2 s, then twice as long after each further failure, at most MAX_BACKOFF)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._failures: dict[str, tuple[int, float]] = {}  # client -> (failures, blocked until)
        self._lock = threading.Lock()
        self._clock = clock

    def wait(self, client: str) -> float:
        """Seconds this client must still wait before trying again (0: go ahead)."""
        with self._lock:
            _, until = self._failures.get(client, (0, 0.0))
        return max(0.0, until - self._clock())

    def failed(self, client: str) -> None:
        with self._lock:
            count, _ = self._failures.get(client, (0, 0.0))
            count += 1
            delay = 0.0 if count < FREE_FAILURES else min(2.0 ** (count - FREE_FAILURES + 1), MAX_BACKOFF)
            self._failures[client] = (count, self._clock() + delay)
            if len(self._failures) > 10_000:  # bounded: forget the oldest clients
                for key in list(self._failures)[: len(self._failures) - 10_000]:
                    del self._failures[key]

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


class Guard:
    """ASGI middleware: bearer token and body cap on the API, backoff on the UI's login."""

    def __init__(self, app: ASGIApp, access: Access, throttle: LoginThrottle, *, max_body: int = MAX_API_BODY) -> None:
        self.app = app
        self.access = access
        self.throttle = throttle
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith(API_PREFIXES):
            await self._api(scope, receive, send)
        elif path.rstrip("/").endswith("/login") and scope.get("method") == "POST":
            await self._login(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.access.api_key is not None:
            given = headers.get("authorization", "")
            token = given[7:] if given.lower().startswith("bearer ") else ""
            if not hmac.compare_digest(token.encode(), self.access.api_key.encode()):
                await _json(
                    send,
                    401,
                    "missing or wrong API key: send `Authorization: Bearer <ADVISOR_BOT_API_KEY>`",
                    kind="authentication_error",
                )
                return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _json(send, 413, f"request body is {int(length):,} bytes; the limit is {self.max_body:,}")
            return
        seen = 0
        too_big = False

        async def capped() -> MutableMapping[str, Any]:
            nonlocal seen, too_big
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    too_big = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        started = False

        async def watch(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if too_big and not started:
                started = True
                await _json(send, 413, f"request body is over the {self.max_body:,}-byte limit")
                return
            if too_big:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, capped, watch)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.wait(client)
        if wait > 0:
            await _json(
                send,
                429,
                f"too many failed logins: try again in {wait:.0f} s",
                headers=[(b"retry-after", str(int(wait) + 1).encode())],
            )
            return
        status = 0

        async def watch(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watch)
        if status >= 400:
            self.throttle.failed(client)
        elif status:
            self.throttle.succeeded(client)


async def _json(
    send: Send,
    status: int,
    message: str,
    *,
    kind: str = "invalid_request_error",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps({"error": {"message": message, "type": kind, "param": None, "code": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
