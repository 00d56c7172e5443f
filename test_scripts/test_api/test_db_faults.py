"""The database goes away, or is locked, while the app serves: 503s, recovery, nothing half-written.

PostgreSQL: the app reaches a throwaway database of the shared server through a `TcpProxy` that
the test cuts (connections reset, new ones refused), stalls (nothing answers) and restores; the
server itself is never touched. SQLite: a second connection holds
`BEGIN EXCLUSIVE` on the app's file. Each test runs its own app under the threaded server, with
short database timeouts so that a failure costs the test a second, not a minute.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.api.errors import DATABASE_BUSY, DATABASE_UNAVAILABLE
from app.core.config import Settings
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from app.models import FxRate
from test_scripts.databases import admin_execute, migrate_to_head
from test_scripts.factories import API_TOKEN, AUTH
from test_scripts.tcp_proxy import TcpProxy
from test_scripts.test_server_helper import running_server

# A password the shared server (trust authentication) never asks for: if it shows up in a response
# or a log record, the app leaked its DATABASE_URL.
SECRET_PASSWORD = "s3cret-pw-9d41"
CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 2.0
BUSY_TIMEOUT_S = 0.2
# A request that meets a dead database must answer well within this.
FAULT_ANSWER_LIMIT_S = 5.0
ONE_RATE = {"rates": [{"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.1172"}]}


def bulk_rates(count: int) -> dict[str, list[dict[str, str]]]:
    start = date(1999, 1, 4)
    return {"rates": [
        {"base": "EUR", "quote": "USD", "date": (start + timedelta(days=i)).isoformat(), "rate": f"1.{i:05d}"}
        for i in range(count)
    ]}  # fmt: skip


def count_rates(database_url: str) -> int:
    """Rows in fx_rates, read on a connection of our own (not the app's)."""

    async def count() -> int:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return await connection.scalar(select(func.count()).select_from(FxRate)) or 0
        finally:
            await engine.dispose()

    return asyncio.run(count())


def fault_settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        api_token=API_TOKEN,
        database_connect_timeout_s=CONNECT_TIMEOUT_S,
        database_command_timeout_s=COMMAND_TIMEOUT_S,
        database_busy_timeout_s=BUSY_TIMEOUT_S,
    )


def assert_unavailable(response: httpx.Response, detail: str = DATABASE_UNAVAILABLE) -> None:
    assert (response.status_code, response.json()) == (503, {"detail": detail})
    assert response.headers["retry-after"] == "5"


# --- PostgreSQL behind a proxy that we cut ----------------------------------------------------


@pytest.fixture
def throwaway_postgres(request: pytest.FixtureRequest, database_url: str) -> Iterator[str]:
    """A migrated database of this test's own on the shared server, dropped afterwards."""
    if request.config.getoption("--db") != "postgres":
        pytest.skip("needs PostgreSQL: run with --db postgres")
    base = make_url(database_url)
    name = f"{base.database}_faults_{secrets.token_hex(6)}"
    asyncio.run(admin_execute(database_url, f'CREATE DATABASE "{name}"'))
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        asyncio.run(migrate_to_head(url))
        yield url
    finally:
        asyncio.run(admin_execute(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def proxy(throwaway_postgres: str) -> Iterator[TcpProxy]:
    url = make_url(throwaway_postgres)
    with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy


@pytest.fixture
def app_behind_proxy(throwaway_postgres: str, proxy: TcpProxy) -> FastAPI:
    """An app whose DATABASE_URL (with a password in it) goes through `proxy`."""
    url = make_url(throwaway_postgres).set(host="127.0.0.1", port=proxy.port, password=SECRET_PASSWORD)
    return create_app(fault_settings(url.render_as_string(hide_password=False)))


@pytest.fixture
def client_behind_proxy(app_behind_proxy: FastAPI) -> Iterator[httpx.Client]:
    with running_server(app_behind_proxy) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def wait_until_pool_is_idle(app: FastAPI, *, timeout: float = FAULT_ANSWER_LIMIT_S) -> None:
    """Return once no connection of `app`'s pool is checked out.

    A request's session is closed after its response has been sent, so a test that has its answer
    cannot assume the connection is back in the pool: cut it then, and the cut lands in the
    session's ROLLBACK, not on an idle connection.
    """
    deadline = time.monotonic() + timeout
    while (checked_out := app.state.engine.pool.checkedout()) != 0:
        if time.monotonic() >= deadline:
            raise AssertionError(f"{checked_out} connection(s) still checked out after {timeout} s")
        time.sleep(0.005)


@pytest.mark.postgres_only
def test_requests_while_postgres_is_cut_get_503_quickly(
    app_behind_proxy: FastAPI, client_behind_proxy: httpx.Client, proxy: TcpProxy
) -> None:
    assert client_behind_proxy.get("/api/v1/fx/currencies").status_code == 200
    wait_until_pool_is_idle(app_behind_proxy)  # a pooled connection now, which the cut kills
    proxy.cut()

    for method, path, body in [("GET", "/api/v1/fx/currencies", None), ("POST", "/api/v1/fx/rates", ONE_RATE)]:
        started = time.monotonic()
        response = client_behind_proxy.request(method, path, json=body, headers=AUTH)
        assert time.monotonic() - started < FAULT_ANSWER_LIMIT_S
        assert_unavailable(response)


@pytest.mark.postgres_only
def test_health_while_postgres_is_cut_is_503_unavailable(client_behind_proxy: httpx.Client, proxy: TcpProxy) -> None:
    proxy.cut()
    response = client_behind_proxy.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == {"reachable": False, "kind": "postgresql"}


@pytest.mark.postgres_only
def test_app_recovers_when_postgres_returns_without_restart(
    client_behind_proxy: httpx.Client, proxy: TcpProxy, throwaway_postgres: str
) -> None:
    for _ in range(2):
        proxy.cut()
        assert_unavailable(client_behind_proxy.post("/api/v1/fx/rates", json=ONE_RATE, headers=AUTH))
        proxy.restore()
        response = client_behind_proxy.post("/api/v1/fx/rates", json=ONE_RATE, headers=AUTH)
        assert response.status_code == 200, response.text
    assert count_rates(throwaway_postgres) == 1


@pytest.mark.postgres_only
def test_pooled_connection_killed_while_idle_is_replaced_without_error(
    app_behind_proxy: FastAPI, client_behind_proxy: httpx.Client, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    assert client_behind_proxy.get("/api/v1/fx/currencies").status_code == 200
    wait_until_pool_is_idle(app_behind_proxy)
    proxy.cut()  # resets the idle pooled connection; the database is back before the next request
    proxy.restore()
    with caplog.at_level(logging.INFO, logger="sqlalchemy.pool"):
        assert client_behind_proxy.get("/api/v1/fx/currencies").status_code == 200
    # The pre-ping found the dead connection and replaced it: one new connection, nothing worse
    # than SQLAlchemy's own note of it logged.
    assert proxy.connections_accepted == 2
    assert "Disconnection detected on checkout" in caplog.text
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.postgres_only
def test_bulk_upsert_cut_midway_writes_none_of_its_rows(
    client_behind_proxy: httpx.Client, proxy: TcpProxy, throwaway_postgres: str
) -> None:
    body = bulk_rates(10_000)
    # 10,000 rows are about 1 MB on the wire; the reads before the INSERT are a few kB. Cutting
    # after 200 kB kills the connection inside the first INSERT batch, before any COMMIT.
    proxy.cut_after(200_000)
    assert_unavailable(client_behind_proxy.post("/api/v1/fx/rates", json=body, headers=AUTH))
    assert proxy.is_cut
    proxy.restore()

    assert count_rates(throwaway_postgres) == 0
    again = client_behind_proxy.post("/api/v1/fx/rates", json=body, headers=AUTH)
    assert again.json() == {"inserted": 10_000, "updated": 0, "skipped": 0}


@pytest.mark.postgres_only
async def test_session_closes_quietly_when_its_connection_died(throwaway_postgres: str, proxy: TcpProxy) -> None:
    """A request's session is closed after its response has started: that close must not raise.

    Otherwise a connection lost between a request's last query and its end turns the answer
    already on its way into a server error, and uvicorn drops the client's connection.
    """
    url = make_url(throwaway_postgres).set(host="127.0.0.1", port=proxy.port)
    engine = create_engine(url.render_as_string(hide_password=False), connect_timeout_s=CONNECT_TIMEOUT_S,
                           command_timeout_s=COMMAND_TIMEOUT_S)  # fmt: skip
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            assert await session.scalar(text("SELECT 1")) == 1  # a transaction is open now
            proxy.cut()
        proxy.restore()
        async with sessions() as session:
            assert await session.scalar(text("SELECT 2")) == 2
    finally:
        await engine.dispose()


@pytest.mark.postgres_only
def test_database_errors_reveal_no_url_or_password(
    client_behind_proxy: httpx.Client, proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy.cut()
    responses = [client_behind_proxy.get("/api/v1/fx/currencies"), client_behind_proxy.get("/health")]

    exposed = "\n".join([*(r.text for r in responses), *(str(dict(r.headers)) for r in responses), caplog.text])
    assert [r.status_code for r in responses] == [503, 503]
    for secret in (SECRET_PASSWORD, f":{proxy.port}", "postgresql+asyncpg://"):
        assert secret not in exposed
    assert "database error on GET /api/v1/fx/currencies: ConnectionRefusedError" in caplog.text


# --- SQLite with the file locked by another connection ----------------------------------------


@pytest.fixture
def sqlite_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A migrated SQLite file of this test's own (in WAL mode, as the app's engine leaves it)."""
    if request.config.getoption("--db") != "sqlite":
        pytest.skip("SQLite locking: run with --db sqlite")
    path = tmp_path / "locked.db"
    asyncio.run(migrate_to_head(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
def sqlite_client(sqlite_file: Path) -> Iterator[httpx.Client]:
    app = create_app(fault_settings(f"sqlite+aiosqlite:///{sqlite_file}"))
    with running_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


@pytest.fixture
def lock_holder(sqlite_file: Path) -> Iterator[sqlite3.Connection]:
    """A second connection to the file, for the test to lock it with; rolled back and closed after."""
    connection = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    try:
        yield connection
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.close()


def hold_exclusive_lock(connection: sqlite3.Connection) -> None:
    """BEGIN EXCLUSIVE, with a row written and not committed: what a long write does to the file."""
    connection.execute("BEGIN EXCLUSIVE")
    connection.execute(
        "INSERT INTO fx_rates (base, quote, rate_date, rate, source, updated_at) "
        "VALUES ('EUR', 'GBP', '2026-10-30', '0.8338000000', 'holder', '2026-10-30 16:00:00+00:00')"
    )


def test_write_to_locked_sqlite_gets_503_busy_after_busy_timeout(
    sqlite_client: httpx.Client, lock_holder: sqlite3.Connection
) -> None:
    hold_exclusive_lock(lock_holder)

    started = time.monotonic()
    response = sqlite_client.post("/api/v1/fx/rates", json=ONE_RATE, headers=AUTH)
    elapsed = time.monotonic() - started

    assert_unavailable(response, DATABASE_BUSY)
    assert BUSY_TIMEOUT_S <= elapsed < FAULT_ANSWER_LIMIT_S


def test_read_of_locked_sqlite_sees_last_commit(
    sqlite_client: httpx.Client, lock_holder: sqlite3.Connection
) -> None:
    """In WAL mode a reader never waits for a writer: it answers from the last committed state."""
    assert sqlite_client.post("/api/v1/fx/rates", json=ONE_RATE, headers=AUTH).status_code == 200
    hold_exclusive_lock(lock_holder)

    response = sqlite_client.get("/api/v1/fx/rates", params={"base": "EUR"})
    assert response.status_code == 200
    assert [(r["quote"], r["rate"]) for r in response.json()["items"]] == [("USD", "1.1172")]
    assert sqlite_client.get("/health").json()["status"] == "ok"


def test_locked_sqlite_write_leaves_nothing_and_works_after_release(
    sqlite_client: httpx.Client, lock_holder: sqlite3.Connection, sqlite_file: Path
) -> None:
    hold_exclusive_lock(lock_holder)
    assert_unavailable(sqlite_client.post("/api/v1/fx/rates", json=bulk_rates(2_000), headers=AUTH), DATABASE_BUSY)
    lock_holder.execute("ROLLBACK")

    assert count_rates(f"sqlite+aiosqlite:///{sqlite_file}") == 0
    response = sqlite_client.post("/api/v1/fx/rates", json=bulk_rates(2_000), headers=AUTH)
    assert response.json() == {"inserted": 2_000, "updated": 0, "skipped": 0}


@pytest.mark.postgres_only
@pytest.mark.parametrize("pooled", [True, False], ids=["pooled-connection", "new-connection"])
def test_postgres_that_stops_answering_gets_503_within_the_timeouts(
    app_behind_proxy: FastAPI, client_behind_proxy: httpx.Client, proxy: TcpProxy, pooled: bool
) -> None:
    """A database that accepts and then says nothing: only our timeouts end the wait."""
    if pooled:
        assert client_behind_proxy.get("/api/v1/fx/currencies").status_code == 200
        wait_until_pool_is_idle(app_behind_proxy)
    proxy.stall()

    started = time.monotonic()
    response = client_behind_proxy.get("/api/v1/fx/currencies")
    elapsed = time.monotonic() - started

    assert_unavailable(response)
    # A new connection waits CONNECT_TIMEOUT_S; a pooled one waits for its ping, then for its own
    # close, each up to COMMAND_TIMEOUT_S. The 2 s are for a loaded machine.
    assert elapsed < CONNECT_TIMEOUT_S + 2 * COMMAND_TIMEOUT_S + 2.0
    proxy.restore()


async def test_exhausted_connection_pool_is_503_busy_not_500() -> None:
    """A request that waited pool_timeout for a connection is told to retry, like a locked SQLite."""
    from fastapi import FastAPI
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from app.api import errors
    from test_scripts.test_server_helper import in_process_client

    app = FastAPI()
    errors.install(app)

    @app.get("/needs-a-connection")
    async def needs_a_connection() -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00")

    async with in_process_client(app) as client:
        response = await client.get("/needs-a-connection")
    assert response.status_code == 503
    assert response.json() == {"detail": DATABASE_BUSY}
    assert response.headers["Retry-After"] == "5"
