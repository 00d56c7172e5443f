"""A `yield` dependency as a unit of work: commit after the endpoint returns, roll back if it raised.

The teardown (after `yield`) awaits the database; `scope="function"` runs it before the response is
sent, so a failed commit still reaches the client as an error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)
router = APIRouter()


class Base(DeclarativeBase):
    pass


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)


class TagsIn(BaseModel):
    names: list[str]


class TagsOut(BaseModel):
    ids: list[int]


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            logger.info("rolled back")
            raise
        await session.commit()
        logger.info("committed")


UnitOfWork = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


@router.post("/tags", status_code=201)
async def add_tags(body: TagsIn, session: UnitOfWork) -> TagsOut:
    """Add tags, all or none."""
    tags = []
    for name in body.names:
        if await session.scalar(select(Tag.id).where(Tag.name == name)) is not None:
            raise HTTPException(status_code=409, detail=f"tag {name!r} already exists")
        tag = Tag(name=name)
        session.add(tag)
        tags.append(tag)
    await session.flush()
    return TagsOut(ids=[tag.id for tag in tags])


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(app.state.database_url)
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    yield
    await engine.dispose()


def create_app(database_url: str) -> FastAPI:
    app = FastAPI(lifespan=lifespan)
    app.state.database_url = database_url
    app.include_router(router)
    return app
