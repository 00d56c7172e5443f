"""Lifespan start-up and shutdown that await the database.

Start-up creates the schema and seeds defaults; shutdown records that the service stopped, then
disposes of the engine. Both run on the server's loop: in the server thread under uvicorn.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)
router = APIRouter()

DEFAULT_FLAGS = {"new-checkout": False, "rates-cache": True}


class Base(DeclarativeBase):
    pass


class Flag(Base):
    __tablename__ = "flags"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    enabled: Mapped[bool]


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(app.state.database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as session:
        known = set(await session.scalars(select(Flag.name)))
        session.add_all(Flag(name=name, enabled=on) for name, on in DEFAULT_FLAGS.items() if name not in known)
        await session.commit()
    app.state.sessionmaker = sessionmaker
    logger.info("schema ready")
    try:
        yield
    finally:
        async with sessionmaker() as session:
            session.add(Event(kind="shutdown"))
            await session.commit()
        await engine.dispose()
        logger.info("engine disposed")


@router.get("/flags")
async def read_flags(request: Request) -> dict[str, bool]:
    """Every feature flag and whether it is on."""
    async with request.app.state.sessionmaker() as session:
        flags = await session.scalars(select(Flag).order_by(Flag.name))
    return {flag.name: flag.enabled for flag in flags}


def create_app(database_url: str) -> FastAPI:
    app = FastAPI(lifespan=lifespan)
    app.state.database_url = database_url
    app.include_router(router)
    return app
