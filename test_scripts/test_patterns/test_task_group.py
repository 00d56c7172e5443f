from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from test_scripts.patterns.task_group import Base, Dashboard, Sale, load_dashboard


@pytest.fixture
async def tables(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine


async def test_load_dashboard_gathers_every_figure(tables: AsyncEngine) -> None:
    async with AsyncSession(tables) as session:
        session.add_all(Sale(amount_cents=cents) for cents in (1250, 300, 9999))
        await session.commit()
    assert await load_dashboard(sessionmaker=async_sessionmaker(tables)) == Dashboard(
        sales=3, revenue_cents=11549, largest_cents=9999
    )


async def test_load_dashboard_with_no_sales(tables: AsyncEngine) -> None:
    assert await load_dashboard(sessionmaker=async_sessionmaker(tables)) == Dashboard(
        sales=0, revenue_cents=0, largest_cents=None
    )
