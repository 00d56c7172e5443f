from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notes_app.models import Note


async def add_note(*, session: AsyncSession, body: str) -> int:
    note = Note(body=body)
    session.add(note)
    await session.commit()
    after_commit = note.id
    count = await session.scalar(select(func.count(Note.id)))
    total = count + after_commit
    return total


async def count_notes(*, session: AsyncSession) -> int:
    count = await session.scalar(select(func.count(Note.id)))
    if count is None:
        return 0
    return count
