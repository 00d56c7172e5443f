from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from test_scripts.patterns import background_tasks
from test_scripts.patterns.background_tasks import AuditEntry, Base, create_app
from test_scripts.test_patterns.conftest import Serve, eventually


async def test_place_order_writes_the_audit_after_responding(
    engine: AsyncEngine, sqlite_url: str, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=background_tasks.__name__)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)

    async def audit() -> list[str]:
        async with AsyncSession(engine) as session:
            return list(await session.scalars(select(AuditEntry.action)))

    async with serve(create_app(sqlite_url)) as client:
        response = await client.post("/orders", json={"sku": "EURUSD-1", "quantity": 3})
        # Under uvicorn the task runs after the response is sent: wait for it.
        assert await eventually(audit) == ["order 3 x EURUSD-1"]
    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    assert [record.getMessage() for record in caplog.records if record.name == background_tasks.__name__] == [
        "audited 'order 3 x EURUSD-1'"
    ]
