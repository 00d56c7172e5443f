"""Bulk insert-or-update whose answer stays exact while other requests write the same rows.

Two clients upserting the same keys at once must leave the table as if one had written after the
other, and each must be told what its own write did. Reading the stored rows and then deciding
in Python what to insert, update or skip gets neither right under concurrency: the rows read can
change before the write. So the decision is made while the rows are locked:

- PostgreSQL: every row goes out in one INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE the
  value differs. The database compares against the row as it is once the write has locked it,
  and RETURNING (xmax = 0) tells a row it inserted (no previous version) from one it updated;
  the rows it skipped return nothing.
- SQLite has no xmax, but it has one writer at a time: we take the write lock first
  (BEGIN IMMEDIATE, see `lock_for_writing`). What we read after that cannot change before we
  commit, so we count from it, and send only the rows that change something.

On PostgreSQL rows are written in key order. Two transactions writing overlapping keys then lock
them in the same order: the second waits for the first instead of deadlocking with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Boolean, Engine, Table, event, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from app.schemas.fx import UpsertResult

logger = logging.getLogger(__name__)

# Rows per statement: bounds memory and statement size on both databases.
WRITE_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class _WriterQueue:
    lock: asyncio.Lock
    wait_s: float


# One queue per SQLite engine, in which this process's writers wait their turn in arrival order.
_writer_queues: WeakKeyDictionary[Engine, _WriterQueue] = WeakKeyDictionary()


async def _writer_queue(engine: Engine, connection: AsyncConnection) -> _WriterQueue:
    if engine not in _writer_queues:
        busy_timeout_ms = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar_one()
        _writer_queues[engine] = _WriterQueue(asyncio.Lock(), busy_timeout_ms / 1000)
    return _writer_queues[engine]


def _release_when_transaction_ends(session: AsyncSession, lock: asyncio.Lock) -> None:
    released = False

    def release(sync_session: Session, transaction: SessionTransaction) -> None:
        nonlocal released
        if transaction.parent is None and not released:  # the outermost one: commit, rollback or close
            released = True
            lock.release()

    event.listen(session.sync_session, "after_transaction_end", release)


async def lock_for_writing(session: AsyncSession) -> None:
    """Make the session's transaction SQLite's writer from now until it ends (a no-op on PostgreSQL).

    SQLite's Python driver opens a transaction only at the first write, so reads before it see
    whatever another connection commits meanwhile. BEGIN IMMEDIATE takes the write lock up front;
    if this transaction has written already, it holds the lock.

    Before that, the transaction waits for its turn behind this process's other writers. SQLite's
    own wait for the lock (busy_timeout) polls with growing sleeps, up to 100 ms apart, so with a
    queue of writers a waiter that has slept long keeps losing the lock to newer ones: 100 clients
    upserting at once made some wait over 3 s of a 5 s busy_timeout on a loaded machine. If the
    turn does not come within busy_timeout, we go on to BEGIN IMMEDIATE regardless and let
    SQLite's wait end the usual way ("database is locked", a 503).
    """
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        return
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if raw.driver_connection.in_transaction:  # type: ignore[union-attr]
        return
    queue = await _writer_queue(engine, connection)  # type: ignore[arg-type]
    try:
        async with asyncio.timeout(queue.wait_s):
            await queue.lock.acquire()
    except TimeoutError:
        logger.warning("no turn to write to SQLite within %.1f s; waiting for the lock itself", queue.wait_s)
    else:
        _release_when_transaction_ends(session, queue.lock)
    await connection.exec_driver_sql("BEGIN IMMEDIATE")


async def _stored_values(
    session: AsyncSession, table: Table, key: Sequence[str], value: str, rows: Sequence[Mapping[str, Any]]
) -> dict[tuple[Any, ...], Any]:
    """Key -> stored `value` for the keys of `rows` (read in one query over their bounding box)."""
    columns = [table.c[name] for name in key]
    bounds = [column.between(min(r[column.name] for r in rows), max(r[column.name] for r in rows)) for column in columns]
    found = await session.execute(select(*columns, table.c[value]).where(*bounds))
    return {tuple(row[:-1]): row[-1] for row in found}


async def upsert(
    *,
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    key: Sequence[str],
    value: str,
    chunk: int = WRITE_CHUNK,
    progress: Callable[[int, int], None] | None = None,
) -> UpsertResult:
    """Insert `rows`, or update every non-key column of the stored row where `value` differs.

    Runs in the caller's transaction: nothing is committed here. `rows` must not repeat a key.
    The rows to write go `chunk` at a time, and `progress(done, total)` is called after each chunk.
    """
    if not rows:
        return UpsertResult(inserted=0, updated=0, skipped=0)
    key_of = itemgetter(*key) if len(key) > 1 else lambda row: (row[key[0]],)
    on_sqlite = session.get_bind().dialect.name == "sqlite"
    insert = (sqlite.insert if on_sqlite else postgresql.insert)(table)
    statement = insert.on_conflict_do_update(
        index_elements=list(key),
        set_={name: insert.excluded[name] for name in rows[0] if name not in key},
        where=table.c[value].is_distinct_from(insert.excluded[value]),
    )
    if on_sqlite:
        # Holding the lock, what we read stays true until we commit: we send only the rows that
        # change something, which keeps syncing an unchanged history cheap.
        await lock_for_writing(session)
        stored = await _stored_values(session, table, key, value, rows)
        to_write = [row for row in rows if stored.get(key_of(row)) != row[value]]
        inserted = sum(1 for row in to_write if key_of(row) not in stored)
        written = len(to_write)
    else:
        # Every row goes to the database, equal or not: only under the row lock is "equal" true.
        to_write = sorted(rows, key=key_of)
        statement = statement.returning(literal_column("xmax = 0", Boolean))
        inserted = written = 0
    # Core on the session's own connection (same transaction), not the ORM's bulk insert: the ORM
    # path builds an insert command per row first, which cost a third of the time of loading the
    # ECB history (`./test_runner.py bench --only load`).
    connection = await session.connection()
    for done in range(0, len(to_write), chunk):
        result = await connection.execute(statement, to_write[done : done + chunk])
        if not on_sqlite:
            new = [is_new for (is_new,) in result]
            inserted, written = inserted + sum(new), written + len(new)
        if progress is not None:
            progress(min(done + chunk, len(to_write)), len(to_write))
    return UpsertResult(inserted=inserted, updated=written - inserted, skipped=len(rows) - written)
