"""Run an ASGI app under uvicorn in a thread of the test process.

The server shares the pytest process, so coverage measured there also sees the code the server
runs. We bind the listening socket ourselves before uvicorn starts, so there is no race between
picking a free port and binding it, and every wait has a deadline: a server that fails or hangs
during start-up raises `ServerStartupError` instead of stalling the test run.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import uvicorn
from asgi_lifespan import LifespanManager
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ServerShutdownError", "ServerStartupError", "ThreadedServer", "running_server"]

# How often we look at the server thread while waiting for it to become ready.
_POLL_SECONDS = 0.01

# Any request still running when a test leaves the server is one the test has stopped waiting
# for; we let it finish for at most this long (or half the deadline, if that is shorter) before
# uvicorn cancels it. Uvicorn's own default waits for ever.
_GRACEFUL_SHUTDOWN_SECONDS = 1.0

# We own the socket, so uvicorn must not be told where to listen.
_RESERVED_CONFIG_KEYS = frozenset({"port", "uds", "fd", "reload", "workers"})


class ServerStartupError(RuntimeError):
    """The server did not become ready: its start-up failed, or it ran out of time."""


class ServerShutdownError(RuntimeError):
    """The server did not stop cleanly: its thread outlived the deadline, or its lifespan
    shutdown failed."""


class _LifespanRecorder:
    """An ASGI wrapper that remembers how the app's lifespan failed.

    Uvicorn only logs a failed lifespan and then exits the server with `sys.exit`, so without
    this wrapper all we would learn is the exit status. We keep the exception the app raised
    and the message of any `lifespan.*.failed` event it sent, and pass everything through
    unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.startup_complete = False
        self.startup_error: Exception | None = None
        self.startup_failure_message: str | None = None
        self.shutdown_error: Exception | None = None
        self.shutdown_failure_message: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def recording_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self.startup_complete = True
            elif message["type"] == "lifespan.startup.failed":
                self.startup_failure_message = message.get("message", "")
            elif message["type"] == "lifespan.shutdown.failed":
                self.shutdown_failure_message = message.get("message", "")
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception as exc:
            # CancelledError is not an Exception: when we cancel a start-up that never finished,
            # the app's cancellation is our doing, not its failure.
            if self.startup_complete:
                self.shutdown_error = exc
            else:
                self.startup_error = exc
            raise


class ThreadedServer:
    """A uvicorn server for `app` on a free port of `host`, running in a daemon thread.

    `start()` returns once the server accepts requests and the app's lifespan start-up has
    completed; `stop()` runs the lifespan shutdown, joins the thread and closes the socket.
    Both wait at most `timeout` seconds. Keyword arguments other than ours go to
    `uvicorn.Config` and override our defaults.
    """

    def __init__(
        self, app: ASGIApp, *, host: str = "127.0.0.1", timeout: float = 10.0, **uvicorn_config_kwargs: Any
    ) -> None:
        reserved = sorted(_RESERVED_CONFIG_KEYS.intersection(uvicorn_config_kwargs))
        if reserved:
            raise TypeError(
                f"ThreadedServer got uvicorn options {reserved}; it binds its own socket on a free port of "
                f"host={host!r}, so these cannot be set"
            )
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.app = app
        self.host = host
        self.timeout = timeout
        self._recorder = _LifespanRecorder(app)
        config: dict[str, Any] = {
            "lifespan": "on",  # "auto" would carry on serving when the app's lifespan fails
            "loop": "asyncio",
            "http": "h11",
            # Neither websockets nor wsproto is installed, so "auto" turns WebSockets off; it would
            # pick one up if a later lock adds it.
            "ws": "auto",
            "log_level": "warning",
            # uvicorn's default logging config would replace the process's handlers; we leave
            # logging to pytest, which captures uvicorn's records through the root logger.
            "log_config": None,
            "timeout_graceful_shutdown": min(_GRACEFUL_SHUTDOWN_SECONDS, timeout / 2),
        }
        config.update(uvicorn_config_kwargs)
        self._server = uvicorn.Server(uvicorn.Config(self._recorder, host=host, **config))
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._thread_error: BaseException | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The base URL of the running server, without a trailing slash."""
        if self.port is None:
            raise RuntimeError("the server has no URL before start()")
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Bind a free port, start uvicorn on it and wait until it is ready.

        We raise `ServerStartupError` if the app's lifespan start-up fails (chaining the app's
        exception when it raised one), if uvicorn stops for any other reason, or if the server
        is not ready within the deadline. In every case the thread and socket are gone by then.
        """
        if self._thread is not None:
            raise RuntimeError("a ThreadedServer can only be started once")
        # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets
        # whose proto says TCP. With proto 0 every response waited ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.bind((self.host, 0))
            # Listening now means connections made before uvicorn accepts them wait in the
            # backlog instead of being refused.
            sock.listen()
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, name=f"test-server-{self.port}", daemon=True)
        self._thread.start()

        deadline = time.monotonic() + self.timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._close_socket()
                self._raise_startup_failure()
            if time.monotonic() >= deadline:
                stopped = self._abandon_startup()
                detail = "" if stopped else f"; its thread did not stop within {self.timeout} s either"
                raise ServerStartupError(f"server for {self.app!r} not ready after {self.timeout} s{detail}")
            # Joining for a moment is our sleep, and it returns early if the thread dies.
            self._thread.join(_POLL_SECONDS)

    def stop(self) -> None:
        """Shut the server down and wait for its thread, at most `timeout` seconds.

        We raise `ServerShutdownError` if the thread is still running after the deadline or
        if the app's lifespan shutdown failed.
        """
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(self.timeout)
        self._close_socket()
        if self._thread.is_alive():
            raise ServerShutdownError(
                f"server thread {self._thread.name!r} still running {self.timeout} s after shutdown was requested"
            )
        recorder = self._recorder
        if recorder.shutdown_error is not None:
            raise ServerShutdownError(
                f"lifespan shutdown of {self.app!r} failed: {_describe(recorder.shutdown_error)}"
            ) from recorder.shutdown_error
        if recorder.shutdown_failure_message is not None:
            raise ServerShutdownError(
                f"lifespan shutdown of {self.app!r} failed: {recorder.shutdown_failure_message}"
            )

    def _run(self) -> None:
        """The server thread: run uvicorn on an event loop of its own until it stops.

        Whatever ends the thread, including the `sys.exit` uvicorn calls when start-up fails,
        we keep for `start()` to report rather than letting it vanish into the thread.
        """
        assert self._socket is not None
        try:
            with asyncio.Runner(loop_factory=self._server.config.get_loop_factory()) as runner:
                runner.run(self._serve(self._socket))
        except BaseException as exc:
            self._thread_error = exc

    async def _serve(self, sock: socket.socket) -> None:
        """Serve on `sock`, keeping the loop and task so that `start()` can cancel us."""
        self._loop = asyncio.get_running_loop()
        self._serve_task = asyncio.current_task()
        await self._server.serve(sockets=[sock])

    def _abandon_startup(self) -> bool:
        """Stop a server whose start-up ran past the deadline; tell whether its thread ended.

        Uvicorn looks at `should_exit` only once start-up is over, so a lifespan that never
        completes would keep the thread for ever: we cancel the serving task instead, and the
        loop's own shutdown cancels the app's lifespan with it.
        """
        assert self._thread is not None
        self._server.should_exit = True
        loop, task = self._loop, self._serve_task
        if loop is not None and task is not None:
            try:
                loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass  # The loop closed in the meantime: the thread is ending on its own.
        self._thread.join(self.timeout)
        self._close_socket()
        return not self._thread.is_alive()

    def _raise_startup_failure(self) -> None:
        """Raise the `ServerStartupError` that best explains why the thread ended early."""
        recorder = self._recorder
        prefix = f"server for {self.app!r} failed to start"
        if recorder.startup_error is not None:
            raise ServerStartupError(
                f"{prefix}: lifespan raised {_describe(recorder.startup_error)}"
            ) from recorder.startup_error
        if recorder.startup_failure_message is not None:
            raise ServerStartupError(f"{prefix}: lifespan sent startup.failed: {recorder.startup_failure_message}")
        error = self._thread_error
        if isinstance(error, SystemExit):
            raise ServerStartupError(f"{prefix}: uvicorn exited with status {error.code!r}") from error
        if error is not None:
            raise ServerStartupError(f"{prefix}: {_describe(error)}") from error
        raise ServerStartupError(f"{prefix}: its thread ended without starting it")

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__qualname__}: {exc}"


@contextmanager
def running_server(
    app: ASGIApp, *, host: str = "127.0.0.1", timeout: float = 10.0, **uvicorn_config_kwargs: Any
) -> Iterator[str]:
    """Serve `app` on a free port of `host` in a daemon thread; yield its base URL.

    Start-up and shutdown each wait at most `timeout` seconds; see `ThreadedServer`.
    """
    server = ThreadedServer(app, host=host, timeout=timeout, **uvicorn_config_kwargs)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@asynccontextmanager
async def in_process_client(app: ASGIApp, **client_kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client that calls `app` in this event loop, its lifespan run around it.

    The other transport of the harness: no socket and no thread, so only code on the test's own
    loop (and the threadpool) runs.
    """
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", **client_kwargs) as client:
            yield client
