from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from test_scripts.patterns.orm_write import Base, DuplicateNote, Note, create_note, rename_note


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine, expire_on_commit=False) as session:
        yield session


async def stored_titles(engine: AsyncEngine) -> list[tuple[str, int]]:
    async with AsyncSession(engine) as session:
        return [tuple(row) for row in await session.execute(select(Note.title, Note.revision).order_by(Note.id))]


async def test_create_note_commits_and_refreshes(session: AsyncSession, engine: AsyncEngine) -> None:
    note = await create_note(session=session, title="groceries")
    assert note.id == 1
    assert note.created_at is not None  # a server default: only refresh() can have loaded it
    assert await stored_titles(engine) == [("groceries", 1)]


async def test_create_note_duplicate_title_raises(session: AsyncSession, engine: AsyncEngine) -> None:
    await create_note(session=session, title="groceries")
    with pytest.raises(DuplicateNote, match="'groceries' already exists"):
        await create_note(session=session, title="groceries")
    assert await stored_titles(engine) == [("groceries", 1)]


async def test_rename_note_bumps_the_revision(session: AsyncSession, engine: AsyncEngine) -> None:
    note = await create_note(session=session, title="groceries")
    renamed = await rename_note(session=session, note_id=note.id, title="shopping")
    assert renamed is not None
    assert (renamed.title, renamed.revision) == ("shopping", 2)
    assert await stored_titles(engine) == [("shopping", 2)]


async def test_rename_note_missing_returns_none(session: AsyncSession) -> None:
    assert await rename_note(session=session, note_id=99, title="anything") is None
