"""The Alembic migrations in backend/alembic, run through `app.db.migrate` on a database of their own.

Every test here migrates a fresh, empty database: a file in tmp_path on SQLite, a throwaway database
on PostgreSQL. The session's `migrated_database` is never touched, since the other suites use it.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import migrate
from app.db.base import Base
from app.db.engine import create_engine
from app.models import Currency

APP_TABLES = {"currencies", "fx_rates", "assets", "asset_prices"}
HEAD = "0002"
SEEDED_CURRENCIES = 45


async def _execute_autocommit(admin: AsyncEngine, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(statement))


@pytest.fixture
async def fresh_engine(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database of this test's own, dropped after the test."""
    if request.config.getoption("--db") == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}")
        yield engine
        await engine.dispose()
        return
    # `database_url` is the conftest's PostgreSQL URL (one database per xdist worker): we create a
    # sibling of it, so that parallel workers never share a throwaway database either.
    base = make_url(database_url)
    name = f"{base.database}_migrations_{secrets.token_hex(6)}"
    admin = create_engine(database_url)
    try:
        await _execute_autocommit(admin, f'CREATE DATABASE "{name}"')
        engine = create_engine(base.set(database=name).render_as_string(hide_password=False))
        try:
            yield engine
        finally:
            await engine.dispose()
            await _execute_autocommit(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


async def _table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def _currency_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(Currency))


def _diff(sync_connection: Connection) -> list[Any]:
    # compare_type is alembic's default since 1.12; we name it so a change of default cannot
    # silently stop us comparing column types.
    context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def _schema_diff(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return await connection.run_sync(_diff)


def _reflected_check_constraints(sync_connection: Connection) -> set[tuple[str, str]]:
    inspector = inspect(sync_connection)
    return {
        (table, constraint["name"]) for table in APP_TABLES for constraint in inspector.get_check_constraints(table)
    }


async def test_upgrade_from_empty_reaches_head(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    assert await migrate.current_revision(fresh_engine) == HEAD


async def test_upgrade_from_empty_creates_exactly_the_app_tables(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    assert await _table_names(fresh_engine) == APP_TABLES | {"alembic_version"}


async def test_upgrade_from_empty_seeds_every_currency(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    assert await _currency_count(fresh_engine) == SEEDED_CURRENCIES


async def test_upgrade_from_empty_seeds_minor_units_other_than_two(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    async with fresh_engine.connect() as connection:
        rows = await connection.execute(
            select(Currency.code, Currency.minor_units).where(Currency.code.in_(["JPY", "BHD", "CLF", "USD"]))
        )
        minor_units = {code: units for code, units in rows}
    assert minor_units == {"JPY": 0, "BHD": 3, "CLF": 4, "USD": 2}


async def test_upgrade_twice_changes_nothing(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    await migrate.upgrade(fresh_engine, "head")

    assert await migrate.current_revision(fresh_engine) == HEAD
    assert await _table_names(fresh_engine) == APP_TABLES | {"alembic_version"}
    assert await _currency_count(fresh_engine) == SEEDED_CURRENCIES


async def test_downgrade_to_base_leaves_only_alembic_version(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    await migrate.downgrade(fresh_engine, "base")

    assert await migrate.current_revision(fresh_engine) is None
    assert await _table_names(fresh_engine) == {"alembic_version"}


async def test_upgrade_after_downgrade_to_base_restores_head(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")
    await migrate.downgrade(fresh_engine, "base")

    await migrate.upgrade(fresh_engine, "head")

    assert await migrate.current_revision(fresh_engine) == HEAD
    assert await _table_names(fresh_engine) == APP_TABLES | {"alembic_version"}
    assert await _currency_count(fresh_engine) == SEEDED_CURRENCIES
    assert await _schema_diff(fresh_engine) == []


async def test_downgrade_one_step_removes_currencies_and_keeps_tables(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    await migrate.downgrade(fresh_engine, "-1")

    assert await migrate.current_revision(fresh_engine) == "0001"
    assert await _table_names(fresh_engine) == APP_TABLES | {"alembic_version"}
    assert await _currency_count(fresh_engine) == 0


async def test_compare_metadata_after_upgrade_finds_no_difference(fresh_engine: AsyncEngine) -> None:
    await migrate.upgrade(fresh_engine, "head")

    assert await _schema_diff(fresh_engine) == []


async def test_compare_metadata_after_downgrade_to_base_reports_every_table(fresh_engine: AsyncEngine) -> None:
    # The comparison above can only pass if it can also fail: with no schema it must see all of it.
    await migrate.upgrade(fresh_engine, "head")
    await migrate.downgrade(fresh_engine, "base")

    diff = await _schema_diff(fresh_engine)

    assert {entry[1].name for entry in diff if entry[0] == "add_table"} == APP_TABLES


async def test_upgrade_from_empty_creates_the_models_check_constraints(fresh_engine: AsyncEngine) -> None:
    # compare_metadata does not look at CHECK constraints; we compare their names ourselves.
    declared = {
        (table.name, str(constraint.name))
        for table in Base.metadata.sorted_tables
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    await migrate.upgrade(fresh_engine, "head")

    async with fresh_engine.connect() as connection:
        reflected = await connection.run_sync(_reflected_check_constraints)

    assert reflected == declared
