from __future__ import annotations

import logging

import pytest

from test_scripts.patterns import middleware
from test_scripts.patterns.middleware import create_app
from test_scripts.test_patterns.conftest import Serve


async def test_ping_passes_through_both_middlewares(
    sqlite_url: str, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=middleware.__name__)
    async with serve(create_app(sqlite_url)) as client:
        response = await client.get("/ping")
    assert response.status_code == 200
    assert response.json() == {"database": 1}
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert float(response.headers["x-process-time-ms"]) >= 0
    # Logged by the ASGI middleware after the app returned: the server has stopped, so it has run.
    assert [record.getMessage() for record in caplog.records if record.name == middleware.__name__] == [
        f"request {request_id} /ping done: 200"
    ]
