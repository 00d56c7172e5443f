"""An anyio task group: a dashboard's figures loaded side by side, one session each."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import anyio
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class Sale(Base):
    __tablename__ = "sales"

    id: Mapped[int] = mapped_column(primary_key=True)
    amount_cents: Mapped[int]


@dataclass(frozen=True)
class Dashboard:
    sales: int
    revenue_cents: int
    largest_cents: int | None


async def _load(
    sessionmaker: async_sessionmaker[AsyncSession],
    name: str,
    query: Select[tuple[int | None]],
    figures: dict[str, int | None],
) -> None:
    async with sessionmaker() as session:
        value = await session.scalar(query)
    figures[name] = value
    logger.debug("%s = %s", name, value)


async def load_dashboard(*, sessionmaker: async_sessionmaker[AsyncSession]) -> Dashboard:
    figures: dict[str, int | None] = {}
    async with anyio.create_task_group() as group:
        group.start_soon(_load, sessionmaker, "sales", select(func.count(Sale.id)), figures)
        group.start_soon(_load, sessionmaker, "revenue", select(func.coalesce(func.sum(Sale.amount_cents), 0)), figures)
        group.start_soon(_load, sessionmaker, "largest", select(func.max(Sale.amount_cents)), figures)
    dashboard = Dashboard(
        sales=figures["sales"] or 0, revenue_cents=figures["revenue"] or 0, largest_cents=figures["largest"]
    )
    logger.info("dashboard: %s", dashboard)
    return dashboard
