"""Fixtures for the pattern catalog: a database file per test, and the transport `--transport` picks.

`serve(app)` reaches an app the way the rest of the suite does: over real HTTP to uvicorn in a thread
of this process (`threaded`, the default), or in process through httpx's ASGITransport under
asgi-lifespan (`asgi`). A threaded run measures the server thread; an in-process run measures the
test's own loop. `websocket(app, path)` does the same for a WebSocket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.types import ASGIApp, Message
from websockets.asyncio.client import connect

from test_scripts.test_server_helper import in_process_client, running_server

# Long enough for a loaded CI machine, short enough that a broken pattern fails fast.
DEADLINE_SECONDS = 5.0

Serve = Callable[[ASGIApp], AbstractAsyncContextManager[httpx.AsyncClient]]


class WebSocketSession(Protocol):
    async def send_text(self, text: str) -> None: ...
    async def receive_text(self) -> str: ...


OpenWebSocket = Callable[[ASGIApp, str], AbstractAsyncContextManager[WebSocketSession]]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file of this test's own."""
    return f"sqlite+aiosqlite:///{tmp_path / 'patterns.db'}"


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """The test's own engine on `sqlite_url`, for making tables, seeding and checking rows."""
    engine = create_async_engine(sqlite_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def threaded(request: pytest.FixtureRequest) -> bool:
    return request.config.getoption("--transport") == "threaded"


@pytest.fixture
def serve(threaded: bool) -> Serve:
    """Enter `serve(app)` to get an httpx client for `app` through the chosen transport."""
    return _serve_threaded if threaded else in_process_client


@asynccontextmanager
async def _serve_threaded(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    with running_server(app) as url:
        async with httpx.AsyncClient(base_url=url, timeout=DEADLINE_SECONDS) as client:
            yield client


@pytest.fixture
def websocket(threaded: bool) -> OpenWebSocket:
    """Enter `websocket(app, path)` to talk to a WebSocket route through the chosen transport.

    Leaving the block closes the connection and, for the threaded transport, stops the server, so
    whatever the route does after the client leaves has run by then.
    """
    return _websocket_threaded if threaded else _websocket_in_process


class _ClientWebSocket:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    async def send_text(self, text: str) -> None:
        await self._connection.send(text)

    async def receive_text(self) -> str:
        return str(await asyncio.wait_for(self._connection.recv(), DEADLINE_SECONDS))


@asynccontextmanager
async def _websocket_threaded(app: ASGIApp, path: str) -> AsyncIterator[WebSocketSession]:
    with running_server(app) as url:
        async with connect(url.replace("http://", "ws://", 1) + path, open_timeout=DEADLINE_SECONDS) as connection:
            yield _ClientWebSocket(connection)


class _InProcessWebSocket:
    """The client side of one ASGI WebSocket connection, talking to the app in this loop."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self._app = app
        self._scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
        }
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self._task = asyncio.create_task(self._app(self._scope, self._to_app.get, self._from_app.put))
        await self._to_app.put({"type": "websocket.connect"})
        message = await self._next()
        if message["type"] != "websocket.accept":
            raise AssertionError(f"the app answered the handshake with {message!r}, not websocket.accept")

    async def send_text(self, text: str) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": text})

    async def receive_text(self) -> str:
        message = await self._next()
        if message["type"] != "websocket.send" or message.get("text") is None:
            raise AssertionError(f"expected a text frame from the app, got {message!r}")
        return str(message["text"])

    async def close(self) -> None:
        assert self._task is not None
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000, "reason": ""})
        await asyncio.wait_for(self._task, DEADLINE_SECONDS)

    async def _next(self) -> Message:
        return await asyncio.wait_for(self._from_app.get(), DEADLINE_SECONDS)


@asynccontextmanager
async def _websocket_in_process(app: ASGIApp, path: str) -> AsyncIterator[WebSocketSession]:
    session = _InProcessWebSocket(app, path)
    await session.connect()
    yield session
    await session.close()


async def eventually(check: Callable[[], Any], *, timeout: float = DEADLINE_SECONDS) -> Any:
    """Await `check()` (a coroutine function) until it returns something truthy; fail at the deadline.

    For work the server finishes after the response has been sent, such as a background task.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{check.__qualname__} still returned {result!r} after {timeout} s")
        await asyncio.sleep(0.01)
