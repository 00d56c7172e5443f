"""Tests for the threaded test server (test_scripts/test_server_helper.py)."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from test_scripts.test_server_helper import (
    ServerShutdownError,
    ServerStartupError,
    ThreadedServer,
    running_server,
)

PROC_FDS = Path("/proc/self/fd")


def make_app(
    *,
    events: list[str] | None = None,
    on_startup: Callable[[], Awaitable[None] | None] | None = None,
    routes: list[Route] | None = None,
) -> Starlette:
    """Build a Starlette app whose lifespan appends "startup" and "shutdown" to `events`.

    `on_startup` runs (and is awaited, if it returns an awaitable) before startup completes.
    """
    recorded = events if events is not None else []

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if on_startup is not None:
            result = on_startup()
            if result is not None:
                await result
        recorded.append("startup")
        yield
        recorded.append("shutdown")

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    return Starlette(lifespan=lifespan, routes=routes if routes is not None else [Route("/hello", hello)])


def failing_startup() -> None:
    raise RuntimeError("boom")


async def never_completing_startup() -> None:
    await asyncio.Event().wait()


@contextmanager
def assert_nothing_left_behind() -> Iterator[None]:
    """Check that the block leaves no thread and no open file descriptor behind."""
    threads_before = set(threading.enumerate())
    fds_before = len(os.listdir(PROC_FDS))
    yield
    assert set(threading.enumerate()) == threads_before
    assert len(os.listdir(PROC_FDS)) == fds_before


needs_proc = pytest.mark.skipif(not PROC_FDS.is_dir(), reason="counting open descriptors needs /proc/self/fd")


# running_server: serving


def test_running_server_serves_requests_over_http() -> None:
    with running_server(make_app()) as url:
        response = httpx.get(f"{url}/hello")

    assert response.status_code == 200
    assert response.json() == {"hello": "world"}


def test_running_server_yields_loopback_url_with_bound_port() -> None:
    with running_server(make_app()) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=1):
            pass

    assert host == "127.0.0.1"
    assert int(port) != 0


def test_running_server_runs_app_in_this_process_on_another_thread() -> None:
    seen: list[tuple[int, int]] = []

    async def where(request: Request) -> PlainTextResponse:
        seen.append((os.getpid(), threading.get_ident()))
        return PlainTextResponse("ok")

    with running_server(make_app(routes=[Route("/where", where)])) as url:
        httpx.get(f"{url}/where")

    assert len(seen) == 1
    pid, thread_id = seen[0]
    assert pid == os.getpid()
    assert thread_id != threading.get_ident()


def test_start_binds_port_before_lifespan_startup() -> None:
    bind_errors: list[int | None] = []

    def bind_same_port() -> None:
        # Uvicorn runs the lifespan startup before it creates its listener: if we had left the
        # binding to uvicorn, this bind would succeed.
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            probe.bind((server.host, server.port))
        except OSError as exc:
            bind_errors.append(exc.errno)
        finally:
            probe.close()

    server = ThreadedServer(make_app(on_startup=bind_same_port))
    server.start()
    server.stop()

    assert bind_errors == [errno.EADDRINUSE]


def test_running_server_gives_concurrent_servers_different_ports() -> None:
    with running_server(make_app()) as first, running_server(make_app()) as second:
        first_status = httpx.get(f"{first}/hello").status_code
        second_status = httpx.get(f"{second}/hello").status_code

    assert first != second
    assert (first_status, second_status) == (200, 200)


def test_running_server_leaves_signal_handlers_alone() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    with running_server(make_app()):
        during = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    assert during == before


def test_running_server_rejects_port_option() -> None:
    with pytest.raises(TypeError, match=r"uvicorn options \['port'\]"):
        with running_server(make_app(), port=8000):
            pass


# running_server: lifespan


def test_running_server_runs_lifespan_startup_before_yielding() -> None:
    events: list[str] = []

    with running_server(make_app(events=events)):
        assert events == ["startup"]


def test_running_server_runs_lifespan_shutdown_on_exit() -> None:
    events: list[str] = []

    with running_server(make_app(events=events)):
        pass

    assert events == ["startup", "shutdown"]


def test_running_server_raises_startup_exception_with_cause() -> None:
    started = time.monotonic()

    with pytest.raises(ServerStartupError, match=r"lifespan raised RuntimeError: boom$") as excinfo:
        with running_server(make_app(on_startup=failing_startup), timeout=5.0):
            pass

    assert time.monotonic() - started < 5.0
    assert type(excinfo.value.__cause__) is RuntimeError
    assert str(excinfo.value.__cause__) == "boom"


def test_running_server_raises_startup_failed_message_without_exception() -> None:
    async def refusing_app(scope: Scope, receive: Receive, send: Send) -> None:
        # A bare ASGI app may report failure without raising; uvicorn then only logs it.
        message: Message = await receive()
        assert message["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(ServerStartupError, match=r"lifespan sent startup.failed: no database$"):
        with running_server(refusing_app, timeout=5.0):
            pass


def test_running_server_raises_not_ready_when_startup_never_completes() -> None:
    started = time.monotonic()

    with pytest.raises(ServerStartupError, match=r"not ready after 0\.5 s$"):
        with running_server(make_app(on_startup=never_completing_startup), timeout=0.5):
            pass

    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 2.0


def test_stop_raises_when_lifespan_shutdown_fails() -> None:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        raise RuntimeError("dispose failed")

    with pytest.raises(ServerShutdownError, match=r"failed: RuntimeError: dispose failed$") as excinfo:
        with running_server(Starlette(lifespan=lifespan)):
            pass

    assert str(excinfo.value.__cause__) == "dispose failed"


def test_stop_raises_when_thread_outlives_deadline() -> None:
    release = threading.Event()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        release.wait(10)  # Blocks the server's event loop, as a synchronous call would.

    server = ThreadedServer(Starlette(lifespan=lifespan), timeout=0.5)
    server.start()
    thread_name = f"test-server-{server.port}"
    try:
        with pytest.raises(ServerShutdownError, match=r"still running 0\.5 s after shutdown was requested$"):
            server.stop()
    finally:
        release.set()
        for thread in threading.enumerate():
            if thread.name == thread_name:
                thread.join(10)


def test_stop_cancels_request_still_running_after_grace_period() -> None:
    async def hang(request: Request) -> PlainTextResponse:
        await asyncio.Event().wait()
        return PlainTextResponse("unreachable")

    with running_server(make_app(routes=[Route("/hang", hang)]), timeout=5.0) as url:
        host, port = url.removeprefix("http://").split(":")
        client = socket.create_connection((host, int(port)), timeout=5)
        client.sendall(b"GET /hang HTTP/1.1\r\nHost: test\r\n\r\n")
        # Leaving the block with the request in flight: uvicorn's default would wait for ever.

    with client, client.makefile("rb") as reply:
        status_line = reply.readline()
    assert status_line == b"HTTP/1.1 500 Internal Server Error\r\n"


# running_server: nothing left behind


@needs_proc
def test_running_server_leaves_no_threads_or_fds_after_exit() -> None:
    with assert_nothing_left_behind():
        with running_server(make_app()) as url:
            with httpx.Client() as client:
                assert client.get(f"{url}/hello").status_code == 200


@needs_proc
@pytest.mark.parametrize("on_startup", [failing_startup, never_completing_startup])
def test_running_server_leaves_no_threads_or_fds_after_startup_failure(
    on_startup: Callable[[], Awaitable[None] | None],
) -> None:
    with assert_nothing_left_behind():
        with pytest.raises(ServerStartupError):
            with running_server(make_app(on_startup=on_startup), timeout=0.5):
                pass


# The recorded ECB sample
