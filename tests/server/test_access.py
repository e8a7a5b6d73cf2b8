"""server/access.py: the login backoff (LoginThrottle, with an injected clock), the Guard in front
of the app (API key, body cap on /v1 and /mcp even for a chunked body without a length, backoff on
/login) driven as plain ASGI, and the backoff on a real `advisor-bot serve` with a login."""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import anyio
import httpx
import pytest
from conftest import TINY
from helpers import RunningServer, tiny_served_root

from advisor_bot.server.access import FREE_FAILURES, MAX_BACKOFF, Access, Guard, LoginThrottle

OPEN = Access(login=None, api_key=None, open_beyond_localhost=False)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---------- LoginThrottle ----------


def test_three_failures_are_free_then_each_failure_doubles_the_wait() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    assert FREE_FAILURES == 3
    for _ in range(FREE_FAILURES - 1):
        throttle.failed("10.0.0.1")
        assert throttle.wait("10.0.0.1") == 0
    waits = []
    for _ in range(4):
        throttle.failed("10.0.0.1")
        waits.append(throttle.wait("10.0.0.1"))
    assert waits == [2.0, 4.0, 8.0, 16.0]
    assert throttle.wait("10.0.0.2") == 0  # per client


def test_the_wait_runs_down_with_the_clock_and_a_success_forgets_the_failures() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(FREE_FAILURES):
        throttle.failed("a")
    assert throttle.wait("a") == 2.0
    clock.now += 1.5
    assert throttle.wait("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert throttle.wait("a") == 0
    throttle.failed("a")  # failures keep counting after a wait: the next one waits longer
    assert throttle.wait("a") == 4.0
    throttle.succeeded("a")
    assert throttle.wait("a") == 0
    throttle.failed("a")  # a fresh start: free again
    assert throttle.wait("a") == 0


def test_the_wait_is_capped() -> None:
    throttle = LoginThrottle(Clock())
    for _ in range(50):
        throttle.failed("a")
    assert throttle.wait("a") == MAX_BACKOFF


def test_the_throttle_remembers_a_bounded_number_of_clients() -> None:
    throttle = LoginThrottle(Clock())
    for n in range(10_005):
        for _ in range(FREE_FAILURES):
            throttle.failed(f"client-{n}")
    assert throttle.wait("client-0") == 0  # the oldest were forgotten
    assert throttle.wait("client-10004") == 2.0


# ---------- Guard, driven as ASGI ----------


class App:
    """The app behind the guard: reads the whole body, answers `status` with its length."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls = 0
        self.received = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        more = True
        while more:
            message = await receive()
            self.received += len(message.get("body", b""))
            more = message.get("more_body", False)
        body = str(self.received).encode()
        await send({"type": "http.response.start", "status": self.status, "headers": []})
        await send({"type": "http.response.body", "body": body})


def call(
    guard: Guard,
    path: str,
    chunks: list[bytes],
    *,
    method: str = "POST",
    headers: dict[str, str] | None = None,
    client: str = "10.0.0.1",
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request through the guard: (status, headers, body). The body arrives in `chunks`
    with no content-length unless `headers` gives one (as with Transfer-Encoding: chunked)."""
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": (client, 50000),
    }
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks or [b""])
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    anyio.run(guard.__call__, scope, receive, send)
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent  # exactly one response
    response_headers = {k.decode(): v.decode() for k, v in starts[0].get("headers", [])}
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(starts[0]["status"]), response_headers, body


def test_a_chunked_body_without_a_length_is_cut_off_at_the_cap() -> None:
    app = App()
    guard = Guard(app, OPEN, LoginThrottle(), max_body=1000)
    status, headers, body = call(guard, "/v1/chat/completions", [b"x" * 400] * 5)
    assert status == 413 and headers["content-type"] == "application/json"
    assert b"over the 1,000-byte limit" in body
    assert app.received <= 1000  # the app never saw more than the cap
    status, _, body = call(guard, "/mcp/", [b"x" * 400] * 5)
    assert status == 413  # MCP is capped the same way


def test_a_declared_length_over_the_cap_is_refused_before_the_app_runs() -> None:
    app = App()
    guard = Guard(app, OPEN, LoginThrottle(), max_body=1000)
    status, _, body = call(guard, "/v1/search", [b"x" * 1001], headers={"content-length": "1001"})
    assert status == 413 and b"request body is 1,001 bytes; the limit is 1,000" in body
    assert app.calls == 0


def test_bodies_within_the_cap_and_outside_the_api_pass_untouched() -> None:
    app = App()
    guard = Guard(app, OPEN, LoginThrottle(), max_body=1000)
    assert call(guard, "/v1/search", [b"x" * 500, b"y" * 500]) == (200, {}, b"1000")
    app.received = 0
    # the UI's uploads are not the API's: Gradio applies its own file size limit there
    assert call(guard, "/gradio_api/upload", [b"x" * 800] * 3)[0] == 200


def test_the_api_key_guards_v1_and_mcp_but_not_the_page() -> None:
    app = App()
    guard = Guard(app, Access(login=None, api_key="k-1", open_beyond_localhost=False), LoginThrottle())
    for path in ("/v1/models", "/mcp/", "/mcp"):
        status, _, body = call(guard, path, [], method="GET")
        assert status == 401 and b"authentication_error" in body
        assert call(guard, path, [], method="GET", headers={"authorization": "Bearer k-2"})[0] == 401
        assert call(guard, path, [], method="GET", headers={"authorization": "Bearer k-1"})[0] == 200
    assert call(guard, "/", [], method="GET")[0] == 200
    assert app.calls == 4  # three right keys and the page


def test_failed_logins_are_throttled_per_client_even_with_the_right_password() -> None:
    clock = Clock()
    refusing = App(status=400)
    guard = Guard(refusing, OPEN, LoginThrottle(clock))
    for _ in range(FREE_FAILURES):
        assert call(guard, "/login", [b"username=ann&password=bad"])[0] == 400
    status, headers, body = call(guard, "/login/", [b"username=ann&password=bad"])
    assert status == 429 and headers["retry-after"] == "3" and b"too many failed logins" in body
    assert refusing.calls == FREE_FAILURES  # the throttled attempt never reached the app
    assert call(guard, "/login", [], client="10.0.0.9")[0] == 400  # another client is not held up
    guard.app = App(status=200)  # now the password would be right ...
    assert call(guard, "/login", [b"username=ann&password=s3cret"])[0] == 429  # ... but the wait is not over
    clock.now += 2.0
    assert call(guard, "/login", [b"username=ann&password=s3cret"])[0] == 200
    assert guard.throttle.wait("10.0.0.1") == 0  # a success forgets the failures
    assert call(guard, "/login", [], method="GET")[0] == 200  # only POSTs are logins


def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def nothing(*_: Any) -> Any:
        return None

    guard = Guard(app, Access(login=None, api_key="k", open_beyond_localhost=False), LoginThrottle())
    for kind in ("lifespan", "websocket"):
        anyio.run(guard.__call__, {"type": kind, "path": "/v1/x"}, nothing, nothing)
    assert seen == ["lifespan", "websocket"]


# ---------- a real server with a login ----------


@pytest.fixture(scope="module")
def login_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`advisor-bot serve` on 127.0.0.1 with a login (a login that is set is always used)."""
    running = RunningServer(
        tiny_served_root(tmp_path_factory.mktemp("login"), TINY),
        env={"ADVISOR_BOT_USERNAME": "ann", "ADVISOR_BOT_PASSWORD": "s3cret"},
    )
    yield running
    running.stop()


@pytest.mark.slow
def test_login_backoff_on_a_real_server(login_server: RunningServer) -> None:
    assert "login required for the chat" in login_server.log()
    bad = {"username": "ann", "password": "wrong"}
    good = {"username": "ann", "password": "s3cret"}
    with httpx.Client(base_url=login_server.url, timeout=60) as http:
        for _ in range(FREE_FAILURES):
            reply = http.post("/login", data=bad)
            assert reply.status_code == 400 and "Incorrect credentials" in reply.text
        refused = http.post("/login", data=bad)
        assert refused.status_code == 429, refused.text
        assert "too many failed logins" in refused.json()["error"]["message"]
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 3
        during = http.post("/login", data=good)  # the right password does not skip the wait
        assert during.status_code == 429
        time.sleep(retry_after)
        after = http.post("/login", data=good)
        assert after.status_code == 200 and after.json() == {"success": True}
        assert http.post("/login", data=bad).status_code == 400  # the success forgot the failures
    assert "Traceback" not in login_server.log(), login_server.log()
