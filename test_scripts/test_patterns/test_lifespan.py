from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from test_scripts.patterns import lifespan
from test_scripts.patterns.lifespan import Event, create_app
from test_scripts.test_patterns.conftest import Serve


async def test_startup_creates_and_seeds_the_flags(sqlite_url: str, serve: Serve) -> None:
    async with serve(create_app(sqlite_url)) as client:
        response = await client.get("/flags")
    assert response.status_code == 200
    assert response.json() == {"new-checkout": False, "rates-cache": True}


async def test_shutdown_records_the_stop_and_disposes(
    sqlite_url: str, serve: Serve, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=lifespan.__name__)
    async with serve(create_app(sqlite_url)):
        pass
    async with AsyncSession(engine) as session:
        assert list(await session.scalars(select(Event.kind))) == ["shutdown"]
    assert [record.getMessage() for record in caplog.records if record.name == lifespan.__name__] == [
        "schema ready",
        "engine disposed",
    ]
