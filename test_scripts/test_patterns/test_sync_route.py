from __future__ import annotations

import logging
import threading

import pytest

from test_scripts.patterns import sync_route
from test_scripts.patterns.sync_route import create_app
from test_scripts.test_patterns.conftest import Serve


async def test_invoice_total_runs_in_a_worker_thread(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=sync_route.__name__)
    invoice = {"lines": [{"quantity": 3, "unit_cents": 250}, {"quantity": 1, "unit_cents": 999}], "tax_percent": 20}
    async with serve(create_app()) as client:
        response = await client.post("/invoices/total", json=invoice)
    assert response.status_code == 200
    assert response.json() == {"subtotal_cents": 1749, "tax_cents": 349, "total_cents": 2098}
    [record] = [record for record in caplog.records if record.name == sync_route.__name__]
    assert record.threadName != threading.main_thread().name
