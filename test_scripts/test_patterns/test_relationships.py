from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from test_scripts.patterns.relationships import Author, Base, Book, Shelf, shelf_of, titles_by


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as session:
        session.add(
            Author(
                id=1,
                name="Le Guin",
                books=[Book(title="The Dispossessed", pages=387), Book(title="A Wizard of Earthsea", pages=183)],
            )
        )
        await session.commit()
    # A fresh session: nothing loaded, so the relationship really has to be fetched.
    async with AsyncSession(engine) as session:
        yield session


async def test_titles_by_loads_books_through_awaitable_attrs(session: AsyncSession) -> None:
    assert await titles_by(session=session, author_id=1) == ["A Wizard of Earthsea", "The Dispossessed"]


async def test_titles_by_unknown_author_is_none(session: AsyncSession) -> None:
    assert await titles_by(session=session, author_id=2) is None


async def test_shelf_of_lazy_loads_inside_run_sync(session: AsyncSession) -> None:
    assert await shelf_of(session=session, author_id=1) == Shelf(books=2, pages=570)


async def test_shelf_of_unknown_author_is_none(session: AsyncSession) -> None:
    assert await shelf_of(session=session, author_id=2) is None
