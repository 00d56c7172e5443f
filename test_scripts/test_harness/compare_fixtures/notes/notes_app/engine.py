"""The engine, with a connect listener like backend/app/db/engine.py's.

SQLAlchemy calls the listener in the child greenlet of its asyncio layer, and each
``cursor.execute`` on the adapted aiosqlite connection switches back to the event loop's greenlet
and returns with no call or return event. Under ``concurrency = thread`` coverage's C tracer then
records the listener's later lines into a stale entry and loses them, on every run.
"""

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def _on_connect(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    event.listen(engine.sync_engine, "connect", _on_connect)
    return engine
