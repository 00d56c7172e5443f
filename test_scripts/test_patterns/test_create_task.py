from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from test_scripts.patterns.create_task import Base, Product, count_by_category


async def test_count_by_category_counts_each_in_its_own_task(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as session:
        session.add_all(Product(category=category) for category in ["fx", "fx", "bonds", "fx", "stocks"])
        await session.commit()
    counts = await count_by_category(sessionmaker=async_sessionmaker(engine), categories=["fx", "bonds", "gold"])
    assert counts == {"fx": 3, "bonds": 1, "gold": 0}
