"""`asyncio.create_task`: count several categories at once, one session per task.

The tasks' database awaits interleave, so SQLAlchemy's greenlet switches interleave too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

logger = logging.getLogger(__name__)


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30))


async def _count(sessionmaker: async_sessionmaker[AsyncSession], category: str) -> int:
    async with sessionmaker() as session:
        total = await session.scalar(select(func.count()).where(Product.category == category))
    logger.debug("%s: %d", category, total)
    return total or 0


async def count_by_category(
    *, sessionmaker: async_sessionmaker[AsyncSession], categories: Iterable[str]
) -> dict[str, int]:
    tasks = {category: asyncio.create_task(_count(sessionmaker, category)) for category in categories}
    await asyncio.gather(*tasks.values())
    counts = {category: task.result() for category, task in tasks.items()}
    logger.info("counted %d categories", len(counts))
    return counts
