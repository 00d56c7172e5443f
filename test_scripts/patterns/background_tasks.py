"""BackgroundTasks: an audit row written after the response has been sent."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)
router = APIRouter()


class Base(DeclarativeBase):
    pass


class AuditEntry(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(100))


class OrderIn(BaseModel):
    sku: str
    quantity: int


async def record_audit(sessionmaker: async_sessionmaker[AsyncSession], action: str) -> None:
    async with sessionmaker() as session:
        session.add(AuditEntry(action=action))
        await session.commit()
    logger.info("audited %r", action)


@router.post("/orders", status_code=202)
async def place_order(order: OrderIn, background_tasks: BackgroundTasks, request: Request) -> dict[str, str]:
    """Accept an order; the audit trail is written once the client has its answer."""
    action = f"order {order.quantity} x {order.sku}"
    background_tasks.add_task(record_audit, request.app.state.sessionmaker, action)
    return {"status": "accepted"}


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
