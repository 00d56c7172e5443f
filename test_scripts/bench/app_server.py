"""The app as production serves it, in a process of its own, for the throughput section.

    python -m test_scripts.bench.app_server DATABASE_URL

We bind 127.0.0.1 port 0 the way uvicorn binds a host and port itself (an IPPROTO_TCP socket, so
asyncio turns Nagle's algorithm off on every connection), print ``READY <url>`` on stdout once
the server accepts requests (after the app's lifespan start-up), and serve until SIGINT or SIGTERM, which uvicorn handles in the main
thread. A process of its own, because a load generator sharing the server's interpreter would
share its GIL too, and measure itself as much as the server.
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from test_scripts.bench.scenario import bench_app, bench_settings

READY = "READY"


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server, saying on stdout when it is ready: no polling on either side."""

    url = ""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:  # False when the lifespan's start-up failed: uvicorn then exits
            print(f"{READY} {self.url}", flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m test_scripts.bench.app_server DATABASE_URL", file=sys.stderr)
        return 4
    app = bench_app(bench_settings(argv[0]))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    port = sock.getsockname()[1]
    server = _AnnouncingServer(
        uvicorn.Config(app, lifespan="on", loop="asyncio", http="h11", log_level="warning", access_log=False)
    )
    server.url = f"http://127.0.0.1:{port}"
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
