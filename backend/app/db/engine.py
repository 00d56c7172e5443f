"""Engine and session factory, created by the lifespan (never at import time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite ignores foreign keys unless asked, per connection; WAL lets the threaded test server
    # read while a test writes, and busy_timeout turns a brief lock into a wait, not an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for `database_url` (sqlite+aiosqlite or postgresql+asyncpg)."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    return create_async_engine(database_url, echo=echo, pool_pre_ping=True)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: after a commit we still read the objects we return, and an expired
    # attribute would need a lazy load, which async sessions cannot do implicitly.
    return async_sessionmaker(engine, expire_on_commit=False)
