from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from test_scripts.patterns.yield_dependency import Base, Tag, create_app
from test_scripts.test_patterns.conftest import Serve


@pytest.fixture
async def tables(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine


async def stored_names(engine: AsyncEngine) -> list[str]:
    async with AsyncSession(engine) as session:
        return list(await session.scalars(select(Tag.name).order_by(Tag.id)))


async def test_add_tags_commits_in_the_teardown(tables: AsyncEngine, sqlite_url: str, serve: Serve) -> None:
    async with serve(create_app(sqlite_url)) as client:
        response = await client.post("/tags", json={"names": ["fx", "rates"]})
    assert response.status_code == 201
    assert response.json() == {"ids": [1, 2]}
    # The route only flushes: the rows are there because the dependency's teardown committed.
    assert await stored_names(tables) == ["fx", "rates"]


async def test_add_tags_conflict_rolls_back_the_whole_batch(tables: AsyncEngine, sqlite_url: str, serve: Serve) -> None:
    async with serve(create_app(sqlite_url)) as client:
        await client.post("/tags", json={"names": ["fx"]})
        response = await client.post("/tags", json={"names": ["bonds", "fx"]})
    assert response.status_code == 409
    assert response.json() == {"detail": "tag 'fx' already exists"}
    assert await stored_names(tables) == ["fx"]
