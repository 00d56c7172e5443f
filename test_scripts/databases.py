"""What the suites and the bench do to whole databases: statements outside a transaction (CREATE
and DROP DATABASE), a migration to head, and the per-test reset."""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import migrate
from app.db.engine import create_engine
from app.models import Asset, AssetPrice, FxRate

# Children first: deleting in this order never trips a foreign key. Currencies are reference
# data from a migration; no test changes them.
MUTABLE_TABLES = (AssetPrice.__table__, Asset.__table__, FxRate.__table__)


async def admin_execute(admin_url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE cannot run inside one)."""
    engine = create_engine(admin_url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def migrate_to_head(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row a test can write, in one transaction: the per-test reset."""
    async with engine.begin() as connection:
        for table in MUTABLE_TABLES:
            await connection.execute(delete(table))
