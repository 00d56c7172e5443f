"""A streaming response: a CSV export read from the database while it is sent.

The generator awaits `stream_scalars` and its rows between chunks, and writes a trailer after the
last row.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)
router = APIRouter()


class Base(DeclarativeBase):
    pass


class Currency(Base):
    __tablename__ = "currencies"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))


async def currencies_csv(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[str]:
    yield "code,name\n"
    count = 0
    async with sessionmaker() as session:
        currencies = await session.stream_scalars(select(Currency).order_by(Currency.code))
        async for currency in currencies:
            yield f"{currency.code},{currency.name}\n"
            count += 1
    yield f"# {count} currencies\n"
    logger.info("exported %d currencies", count)


@router.get("/currencies.csv")
async def export_currencies(request: Request) -> StreamingResponse:
    """Every currency, as CSV."""
    return StreamingResponse(currencies_csv(request.app.state.sessionmaker), media_type="text/csv")


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
