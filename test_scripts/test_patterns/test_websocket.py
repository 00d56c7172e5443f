from __future__ import annotations

import json
import logging

import pytest

from test_scripts.patterns import websocket as pattern
from test_scripts.patterns.websocket import create_app
from test_scripts.test_patterns.conftest import OpenWebSocket


async def test_rates_feed_answers_until_the_client_leaves(
    websocket: OpenWebSocket, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=pattern.__name__)
    async with websocket(create_app(), "/ws/rates") as connection:
        await connection.send_text("usd")
        assert json.loads(await connection.receive_text()) == {"code": "USD", "rate": "1.1172"}
        await connection.send_text("xyz")
        assert json.loads(await connection.receive_text()) == {"error": "unknown currency 'XYZ'"}
    assert [record.getMessage() for record in caplog.records if record.name == pattern.__name__] == [
        "client left (code 1000) after 1 answers"
    ]
