"""What the in-process sections measure against: a database of our own, the app, realistic data.

* `scratch_database`: an empty, migrated database that nobody else uses: a file for SQLite, a
  database we create (and drop afterwards) on the PostgreSQL server for PostgreSQL.
* `bench_app`: the app as the tests build it, plus one route that does nothing (the ceiling of
  the throughput section). `/health` is not that ceiling: it runs `SELECT 1` on the database.
* `seed`: a month of the bundled ECB history and a small portfolio, written through the app's
  own services, so convert and valuation do the queries they do in production.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.db.base import utcnow
from app.db.engine import create_engine, create_sessionmaker
from app.main import create_app
from app.models import Asset, AssetKind, AssetPrice
from app.services import fx
from app.services.providers import EcbFileProvider
from test_scripts.databases import admin_execute, migrate_to_head

# The last day of the bundled history: the day every request of the benchmark asks about.
HISTORY_END = date(2026, 10, 30)
SEED_DAYS = 31
TRIVIAL_PATH = "/bench/ping"
CONVERT_PATH = f"/api/v1/fx/convert?amount=100&from=USD&to=JPY&date={HISTORY_END}"
PORTFOLIO_PATH = f"/api/v1/portfolio/valuation?currency=CHF&date={HISTORY_END}"
BENCH_TOKEN = "bench-token-not-a-secret-0123456789"
# (name, kind, currency, quantity, price): priced in five currencies, so valuing them in CHF
# takes an identity, a direct, an inverse-free cross and pivot conversions.
PORTFOLIO = (
    ("Cash EUR", AssetKind.cash, "EUR", "2500", "1"),
    ("ACME Corp", AssetKind.stock, "USD", "10", "187.25"),
    ("Nikkei ETF", AssetKind.fund, "JPY", "40", "3120"),
    ("Gilt 2031", AssetKind.bond, "GBP", "5", "97.4"),
    ("Cash CHF", AssetKind.cash, "CHF", "800", "1"),
)
_names = itertools.count()


def bench_settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        api_token=BENCH_TOKEN,
        fx_pivot_currency="EUR",
        fx_max_staleness_days=7,
        cors_origins=[],
    )


def bench_app(settings: Settings) -> FastAPI:
    """The app, with `GET /bench/ping`: same server, middleware and error handlers, no database."""
    app = create_app(settings)

    @app.get(TRIVIAL_PATH, include_in_schema=False)
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app


@asynccontextmanager
async def scratch_database(kind: str, *, postgres_url: str, workdir: Path | None = None) -> AsyncIterator[str]:
    """The URL of an empty database migrated to head, removed on exit.

    On PostgreSQL we never touch the database of `postgres_url` itself (others test there): we
    create `covref_bench_<pid>_<n>` next to it and drop it, even after a failure.
    """
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="covref-bench-", dir=workdir) as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
            await migrate_to_head(url)
            yield url
        return
    base = make_url(postgres_url)
    admin_url = base.render_as_string(hide_password=False)
    name = f"covref_bench_{os.getpid()}_{next(_names)}"
    await admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        await migrate_to_head(url)
        yield url
    finally:
        await admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def seed(database_url: str, settings: Settings) -> int:
    """A month of ECB rates up to HISTORY_END and the PORTFOLIO with a price on each day; the rates written."""
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            provider = EcbFileProvider(settings.ecb_file_path)
            result = await fx.sync(
                session=session, provider=provider, start=HISTORY_END - timedelta(days=SEED_DAYS), end=HISTORY_END
            )
            now = utcnow()
            for name, kind, currency, quantity, price in PORTFOLIO:
                asset = Asset(name=name, kind=kind, currency=currency, quantity=Decimal(quantity),
                              created_at=now, updated_at=now)  # fmt: skip
                session.add(asset)
                await session.flush()
                session.add_all(
                    AssetPrice(asset_id=asset.id, price_date=HISTORY_END - timedelta(days=back),
                               price=Decimal(price), updated_at=now)
                    for back in range(7)
                )  # fmt: skip
            await session.commit()
            return result.inserted
    finally:
        await engine.dispose()

