"""Engine and session factory, created by the lifespan (never at import time)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)


def _sqlite_pragmas(busy_timeout_s: float) -> Callable[[Any, Any], None]:
    """The hook that prepares each new SQLite connection."""

    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # SQLite ignores foreign keys unless asked, per connection; WAL lets the threaded test
        # server read while a test writes, and busy_timeout turns a brief lock into a wait: only
        # a lock held longer than that becomes an error (a 503, see app.api.errors).
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return on_connect


def create_engine(
    database_url: str,
    *,
    echo: bool = False,
    connect_timeout_s: float = 5.0,
    command_timeout_s: float = 60.0,
    busy_timeout_s: float = 5.0,
) -> AsyncEngine:
    """An async engine for `database_url` (sqlite+aiosqlite or postgresql+asyncpg).

    Every wait on the database is bounded, so a database that is gone costs a request a few
    seconds and a 503, never a hang: on PostgreSQL, `connect_timeout_s` to connect and
    `command_timeout_s` for one statement; on SQLite, `busy_timeout_s` for another
    connection's lock. `pool_pre_ping` tests each pooled PostgreSQL connection before handing it
    out, so one that died while idle (a restarted server, a dropped network) is replaced instead
    of failing the request that gets it.
    """
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_s))
        return engine
    return create_async_engine(
        database_url,
        echo=echo,
        pool_pre_ping=True,
        connect_args={"timeout": connect_timeout_s, "command_timeout": command_timeout_s},
    )


class Session(AsyncSession):
    """An AsyncSession whose close survives a connection that died under it.

    Closing rolls back the open transaction. When the connection is gone (the database restarted,
    the network dropped) there is nothing left to roll back, since the server discards the
    transaction of a dead connection, and the pool has already thrown the connection away. Raising
    then would only turn the request's answer, often already sent, into a server error: a
    request's session is closed after its response has started.
    """

    async def close(self) -> None:
        try:
            await super().close()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            logger.warning("session closed on a dead database connection (%s)", type(exc.orig).__name__)
        except OSError as exc:  # a connect refused or a rollback past its command timeout
            logger.warning("session closed on an unreachable database (%s)", type(exc).__name__)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: after a commit we still read the objects we return, and an expired
    # attribute would need a lazy load, which async sessions cannot do implicitly.
    return async_sessionmaker(engine, class_=Session, expire_on_commit=False)
