from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from test_scripts.patterns.route_service import Base, Quote, create_app, get_quote
from test_scripts.test_patterns.conftest import Serve


@pytest.fixture
async def seeded(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as session:
        session.add_all([Quote(code="USD", price_cents=111), Quote(code="GBP", price_cents=83)])
        await session.commit()
    return engine


@pytest.fixture
async def session(seeded: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(seeded) as session:
        yield session


async def test_read_quote_found(seeded: AsyncEngine, sqlite_url: str, serve: Serve) -> None:
    async with serve(create_app(sqlite_url)) as client:
        response = await client.get("/quotes/usd")
    assert response.status_code == 200
    assert response.json() == {"code": "USD", "price": "1.11"}


async def test_read_quote_unknown_code_is_404(seeded: AsyncEngine, sqlite_url: str, serve: Serve) -> None:
    async with serve(create_app(sqlite_url)) as client:
        response = await client.get("/quotes/xyz")
    assert response.status_code == 404
    assert response.json() == {"detail": "no quote for xyz"}


async def test_get_quote_service_returns_the_row(session: AsyncSession) -> None:
    quote = await get_quote(session=session, code="gbp")
    assert quote is not None
    assert (quote.code, quote.price_cents) == ("GBP", 83)
