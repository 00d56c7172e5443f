"""Query, commit, refresh: a service writing through the ORM.

`refresh` after `commit` reloads what the database filled in (the server default); the lines after
each await run once SQLAlchemy's greenlet has switched back.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(server_default=func.current_timestamp())


class DuplicateNote(Exception):
    def __init__(self, title: str) -> None:
        super().__init__(f"a note titled {title!r} already exists; titles are unique")
        self.title = title


async def create_note(*, session: AsyncSession, title: str) -> Note:
    existing = await session.scalar(select(Note.id).where(Note.title == title))
    if existing is not None:
        raise DuplicateNote(title)
    note = Note(title=title)
    session.add(note)
    await session.commit()
    await session.refresh(note)
    logger.info("created note %d", note.id)
    return note


async def rename_note(*, session: AsyncSession, note_id: int, title: str) -> Note | None:
    note = await session.get(Note, note_id)
    if note is None:
        return None
    note.title = title
    note.revision += 1
    await session.commit()
    await session.refresh(note)
    logger.info("renamed note %d (revision %d)", note.id, note.revision)
    return note
