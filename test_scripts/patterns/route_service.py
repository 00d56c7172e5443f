"""A route awaiting a service that awaits the database.

The route's lines after `await get_quote(...)` and the service's after `await session.scalar(...)`
run after SQLAlchemy has switched greenlets under the await.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, HTTPException, Request
from pydantic import BaseModel
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)
router = APIRouter()


class Base(DeclarativeBase):
    pass


class Quote(Base):
    __tablename__ = "quotes"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    price_cents: Mapped[int]


class QuoteOut(BaseModel):
    code: str
    price: str


async def get_quote(*, session: AsyncSession, code: str) -> Quote | None:
    quote = await session.scalar(select(Quote).where(Quote.code == code.upper()))
    if quote is None:
        logger.info("no quote for %s", code)
    return quote


@router.get("/quotes/{code}")
async def read_quote(code: str, request: Request) -> QuoteOut:
    """One quote, by currency code."""
    async with request.app.state.sessionmaker() as session:
        quote = await get_quote(session=session, code=code)
    if quote is None:
        raise HTTPException(status_code=404, detail=f"no quote for {code}")
    whole, cents = divmod(quote.price_cents, 100)
    return QuoteOut(code=quote.code, price=f"{whole}.{cents:02d}")


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
