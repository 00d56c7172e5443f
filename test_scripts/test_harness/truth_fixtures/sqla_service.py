"""An async service on SQLAlchemy's asyncio layer: every database await switches greenlets."""

import asyncio  # ran

from sqlalchemy import String, func, select, text  # ran
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine  # ran
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column  # ran


class Base(DeclarativeBase):  # ran
    pass  # ran


class Note(Base):  # ran
    __tablename__ = "notes"  # ran

    id: Mapped[int] = mapped_column(primary_key=True)  # ran
    body: Mapped[str] = mapped_column(String(50))  # ran


async def add_note(*, session: AsyncSession, body: str) -> tuple[int, int]:  # ran
    note = Note(body=body)  # ran
    session.add(note)  # ran
    await session.commit()  # ran
    after_commit = note.id  # ran
    count = await session.scalar(select(func.count(Note.id)))  # ran
    after_scalar = count + after_commit  # ran
    result = await session.execute(text("SELECT 41"))  # ran
    value = result.scalar_one()  # ran
    if value < 0:  # ran
        value = 0  # not run
    return after_scalar, value + 1  # ran


async def main() -> tuple[int, int]:  # ran
    engine = create_async_engine("sqlite+aiosqlite://")  # ran
    async with engine.begin() as conn:  # ran
        await conn.run_sync(Base.metadata.create_all)  # ran
    sessions = async_sessionmaker(engine, expire_on_commit=False)  # ran
    async with sessions() as session:  # ran
        outcome = await add_note(session=session, body="hello")  # ran
    await engine.dispose()  # ran
    return outcome  # ran


def run() -> tuple[int, int]:  # ran
    return asyncio.run(main())  # ran
