"""A fake ECB rates provider: a small Starlette app that serves recorded ECB XML.

FX sync tests point the app under test at it (served through `running_server`) and switch its
failure mode per test: an HTTP 500, a body that is not XML, a document cut in the middle, valid
XML that is not the ECB format, or an answer slower than the client's timeout.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = [
    "ECB_HISTORY_PATH",
    "GARBAGE_BODY",
    "SAMPLE_XML",
    "WRONG_XML_BODY",
    "FakeProvider",
    "Mode",
    "create_fake_provider",
]

ECB_HISTORY_PATH = "/eurofxref-hist.xml"

# Five business days, 2026-10-26 to 2026-10-30, in the real feed's format.
SAMPLE_XML: bytes = (Path(__file__).parent / "data" / "ecb_sample.xml").read_bytes()

GARBAGE_BODY = b"\x00\x9c\xff this is not XML at all \xfe"

WRONG_XML_BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<rates base="EUR"><rate date="2026-10-30" currency="USD">1.1172</rate></rates>\n'
)

# The ECB serves its feeds as text/xml; we answer the same for every XML-looking mode.
_XML_MEDIA_TYPE = "text/xml"


class Mode(enum.StrEnum):
    """How the fake provider answers a request for the history document."""

    OK = "ok"
    HTTP_500 = "http_500"
    GARBAGE = "garbage"
    TRUNCATED = "truncated"
    WRONG_XML = "wrong_xml"
    SLOW = "slow"


@dataclass
class FakeProvider:
    """The switches of one fake provider, and what it has seen.

    A test sets `mode` (and, for a provider that recovers, `failures`) before the code under
    test makes its requests, then reads `requests`. The server thread reads these fields while
    the test thread writes them; single attribute reads and writes need no lock.
    """

    body: bytes = SAMPLE_XML
    mode: Mode = Mode.OK
    # How many more requests get `mode` before we answer normally; None means all of them.
    # With mode HTTP_500 and failures=2, the next two requests fail and the third succeeds.
    failures: int | None = None
    # How long SLOW waits before answering; well beyond any client timeout a test would use.
    slow_seconds: float = 30.0
    requests: int = 0

    def mode_for_next_request(self) -> Mode:
        """Count a request and tell which mode it gets."""
        self.requests += 1
        if self.failures is None:
            return self.mode
        if self.failures == 0:
            return Mode.OK
        self.failures -= 1
        return self.mode


def create_fake_provider(*, body: bytes = SAMPLE_XML) -> tuple[Starlette, FakeProvider]:
    """Build the fake provider's app, serving `body` at `ECB_HISTORY_PATH`, and its switches."""
    provider = FakeProvider(body=body)

    async def history(request: Request) -> Response:
        mode = provider.mode_for_next_request()
        if mode == Mode.HTTP_500:
            return Response(b"Internal Server Error", status_code=500, media_type="text/plain")
        if mode == Mode.GARBAGE:
            return Response(GARBAGE_BODY, media_type=_XML_MEDIA_TYPE)
        if mode == Mode.TRUNCATED:
            return Response(provider.body[: len(provider.body) // 2], media_type=_XML_MEDIA_TYPE)
        if mode == Mode.WRONG_XML:
            return Response(WRONG_XML_BODY, media_type=_XML_MEDIA_TYPE)
        if mode == Mode.SLOW:
            # A client that gives up closes its connection; we stop waiting then rather than keep
            # the server's shutdown waiting for us. The wait is an await, so uvicorn can also
            # cancel it when its graceful shutdown runs out.
            with anyio.move_on_after(provider.slow_seconds):
                await _wait_for_disconnect(request)
        return Response(provider.body, media_type=_XML_MEDIA_TYPE)

    app = Starlette(routes=[Route(ECB_HISTORY_PATH, history, methods=["GET"])])
    return app, provider


async def _wait_for_disconnect(request: Request) -> None:
    """Return when the client has closed the connection.

    A GET has no body left to read, so the next ASGI message the server sends us is the
    disconnect.
    """
    while (await request.receive())["type"] != "http.disconnect":
        pass
