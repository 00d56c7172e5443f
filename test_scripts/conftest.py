"""Fixtures every suite shares: the database, the app, and the two ways of reaching it.

`--db sqlite|postgres` picks the database; `--transport threaded|asgi` picks how API tests reach
the app: over real HTTP to uvicorn running in a thread of this process (the default, and the way
the app really runs), or in process through httpx's ASGITransport under asgi-lifespan.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.config import Settings, get_settings
from app.db import migrate
from app.db.base import Base
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from test_scripts.databases import admin_execute, empty_tables
from test_scripts.factories import API_TOKEN
from test_scripts.fake_provider import ECB_HISTORY_PATH, FakeProvider, Mode, create_fake_provider
from test_scripts.test_server_helper import in_process_client, running_server

LOCAL_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("covref", "reference app harness")
    group.addoption("--db", choices=("sqlite", "postgres"), default="sqlite", help="database to test against")
    group.addoption(
        "--transport", choices=("threaded", "asgi"), default="threaded", help="how API tests reach the app"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") == "postgres":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with --db postgres")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make sure a test setting an envvar or reading settings doesn't leak into another test."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _postgres_base_url() -> str:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgresql+asyncpg://"):
            return url
    return LOCAL_POSTGRES_URL


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this test session's own: a file for SQLite, a database per xdist worker for PostgreSQL."""
    if request.config.getoption("--db") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url = make_url(_postgres_base_url())
    admin_url = url.render_as_string(hide_password=False)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:
        yield admin_url
        return
    # Workers run at the same time and each resets its database between tests: they need one
    # each, made for the run and dropped after it.
    name = f"{url.database}_{worker}"
    asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        asyncio.run(admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    # On Ctrl-C the teardown would reach this drop last, after stopping the servers; a loaded
    # worker can take more than 10 s to get there, and then xdist kills it (execnet even sends it
    # a second SIGINT after 5 s, which ends pytest's teardown at once). So the first SIGINT starts
    # the drop in a thread of its own (not a daemon: the process waits for it) and later ones are
    # ignored.
    dropping: list[threading.Thread] = []

    def drop_on_interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        dropping.append(threading.Thread(target=drop, name=f"drop-{name}"))
        dropping[0].start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, drop_on_interrupt)
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if dropping:
            dropping[0].join()
        else:
            drop()
        signal.signal(signal.SIGINT, previous)


async def recreate_schema(database_url: str) -> None:
    """Drop our tables and migrate from nothing: every session starts from the migrations' schema."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> str:
    asyncio.run(recreate_schema(database_url))
    return database_url


@pytest.fixture(scope="session")
def fake_provider_server() -> Iterator[tuple[str, FakeProvider]]:
    """The recorded ECB feed, served over real HTTP for the `ecb_http` provider."""
    fake_app, provider = create_fake_provider()
    with running_server(fake_app) as url:
        yield url, provider


@pytest.fixture
def fake_provider(fake_provider_server: tuple[str, FakeProvider]) -> Iterator[FakeProvider]:
    """The fake provider's switches, reset before and after each test that uses them."""
    _, provider = fake_provider_server
    provider.mode, provider.failures, provider.requests = Mode.OK, None, 0
    yield provider
    provider.mode, provider.failures, provider.requests = Mode.OK, None, 0


@pytest.fixture(scope="session")
def test_settings(migrated_database: str, fake_provider_server: tuple[str, FakeProvider]) -> Settings:
    url, _ = fake_provider_server
    return Settings(
        _env_file=None,
        environment="test",
        database_url=migrated_database,
        api_token=API_TOKEN,
        fx_pivot_currency="EUR",
        fx_max_staleness_days=7,
        ecb_http_url=f"{url}{ECB_HISTORY_PATH}",
        ecb_http_timeout_s=1.0,
        ecb_http_retries=2,
        ecb_http_backoff_s=0.0,
        cors_origins=[],
    )


@pytest.fixture(scope="session")
def app(test_settings: Settings) -> FastAPI:
    return create_app(test_settings)


@pytest.fixture(scope="session")
def asgi_app(test_settings: Settings) -> FastAPI:
    """The app of the in-process transport: not `app`, which the threaded server may be running
    (a test that needs real HTTP uses it under either transport), since one app object holds one
    engine in its state and its lifespan refuses a second start."""
    return create_app(test_settings)


@pytest.fixture(scope="session")
def server_url(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn in a thread of this process, started once per session."""
    with running_server(app) as url:
        yield url


@pytest.fixture(scope="session")
async def engine(migrated_database: str) -> AsyncIterator[AsyncEngine]:
    """One engine (and pool) for the session: every test runs in the session's event loop, so its
    connections stay usable from test to test, and a reset costs a DELETE, not a new connection."""
    engine = create_engine(migrated_database)
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_db(engine: AsyncEngine) -> AsyncEngine:
    """Empty every table a test can write to, before the test (a failed test's rows stay to look at)."""
    await empty_tables(engine)
    return engine


@pytest.fixture
async def session(clean_db: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on a clean database, for services and factories."""
    async with create_sessionmaker(clean_db)() as session:
        yield session


@pytest.fixture
async def client(request: pytest.FixtureRequest, clean_db: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, through the transport chosen with --transport."""
    if request.config.getoption("--transport") == "threaded":
        base_url = request.getfixturevalue("server_url")
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            yield client
    else:
        async with in_process_client(request.getfixturevalue("asgi_app")) as client:
            yield client


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return Path(__file__).resolve().parent.parent
