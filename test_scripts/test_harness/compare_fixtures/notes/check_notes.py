"""The tiny suite compare measures in test_compare.py (named check_*.py: the harness must not collect it)."""

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from notes_app import service
from notes_app.engine import create_engine
from notes_app.models import Base


@pytest.fixture
async def sessions(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


async def test_add_note(sessions):
    async with sessions() as session:
        assert await service.add_note(session=session, body="hello") == 2
