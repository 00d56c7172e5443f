"""A TCP forwarder that a test can cut and restore: a database that goes away and comes back.

Fault tests put it between the app and the shared PostgreSQL server, which they must never stop.
`cut()` resets every live connection and closes the listening socket, so a client sees what a
crashed server gives it: its open connections die, and new ones are refused (ECONNREFUSED), not
left hanging. `restore()` listens again on the same port. `stall()` is the nastier failure, a server or network
that stops answering without closing anything: connections are still accepted, and bytes are
still read, but nothing is forwarded either way, so only the client's own timeouts end its wait.
`cut_after(n)` arms a cut that fires
once `n` more bytes have gone upstream, in the middle of whatever the client is sending, so a
test can kill a transaction half-way through a bulk write.

Threads, not asyncio: the proxy must keep forwarding while the test's own event loop is blocked
in a synchronous call, and the app it serves runs on yet another loop.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

__all__ = ["TcpProxy"]

_BUFFER_BYTES = 65536
# SO_LINGER on, with a zero timeout: close() sends RST at once instead of a polite FIN.
_LINGER_RESET = struct.pack("ii", 1, 0)


def _close(sock: socket.socket, *, abrupt: bool = True) -> None:
    """Close `sock` (with a reset when `abrupt`), waking any thread blocked in recv on it."""
    try:
        if abrupt:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the other side
    sock.close()


class TcpProxy:
    """Forward 127.0.0.1:`port` to `target_host`:`target_port` until cut; a context manager.

    Every connection gets two pump threads (one per direction) and its own upstream
    connection. All threads are daemons and `close()` joins them, so a test leaves none behind.
    """

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0
        self.connections_accepted = 0
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()
        self._pumps: set[threading.Thread] = set()
        self._cut_after: int | None = None
        self._stalled = False
        self._closed = False

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        """Listen on a free port (the first time) or on the same port again (after a cut)."""
        with self._lock:
            if self._listener is not None:
                return self
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((self.host, self.port))
                listener.listen()
            except OSError:
                listener.close()
                raise
            self.port = listener.getsockname()[1]
            self._listener = listener
            self._accept_thread = threading.Thread(
                target=self._accept, args=(listener,), name=f"tcp-proxy-{self.port}", daemon=True
            )
            self._accept_thread.start()
        return self

    def cut(self) -> None:
        """Reset every live connection and stop listening: new connections are refused."""
        with self._lock:
            listener, self._listener = self._listener, None
            doomed, self._sockets = self._sockets, set()
            self._cut_after = None
            accept_thread = self._accept_thread
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for sock in doomed:
            _close(sock)
        if accept_thread is not None:
            accept_thread.join(5)
        self._join_pumps()

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        if self._closed:
            raise RuntimeError("the proxy is closed")
        self._stalled = False
        self.start()

    def stall(self) -> None:
        """Keep every connection open and accept new ones, but forward nothing until `restore()`."""
        self._stalled = True

    def cut_after(self, upstream_bytes: int) -> None:
        """Cut (as `cut()`) once `upstream_bytes` more bytes have been sent towards the server."""
        if upstream_bytes < 1:
            raise ValueError(f"upstream_bytes must be 1 or more, got {upstream_bytes}")
        with self._lock:
            self._cut_after = upstream_bytes

    @property
    def is_cut(self) -> bool:
        return self._listener is None

    def close(self) -> None:
        self._closed = True
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- the threads ---------------------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut() closed the listener
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut while we were connecting
                    _close(client)
                    _close(upstream)
                    return
                self.connections_accepted += 1
                self._sockets.update((client, upstream))
                pumps = [
                    threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True),
                    threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True),
                ]
                self._pumps.update(pumps)
            for pump in pumps:
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while True:
                data = source.recv(_BUFFER_BYTES)
                if not data:
                    break
                if upstream and self._count_towards_cut(len(data)):
                    self.cut()  # the bytes that tripped the cut never reach the server
                    return
                if not self._stalled:
                    sink.sendall(data)
        except OSError:
            pass  # reset by cut(), or by either end
        finally:
            with self._lock:
                live = source in self._sockets
                self._sockets.discard(source)
                self._sockets.discard(sink)
                self._pumps.discard(threading.current_thread())
            if live:
                # An end closed its connection: close the other one too, as politely.
                _close(source, abrupt=False)
                _close(sink, abrupt=False)

    def _count_towards_cut(self, size: int) -> bool:
        with self._lock:
            if self._cut_after is None:
                return False
            self._cut_after -= size
            if self._cut_after > 0:
                return False
            self._cut_after = None
            return True

    def _join_pumps(self) -> None:
        with self._lock:
            pumps = [pump for pump in self._pumps if pump is not threading.current_thread()]
        for pump in pumps:
            pump.join(5)
