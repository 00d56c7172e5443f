"""The column types of backend/app/db/base.py: ExactDecimal and UTCDateTime, on both databases.

Rows are written with the factories and read back through a session of their own (or raw SQL), so
that what we see comes from the database and not from the writing session's identity map.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.engine import create_sessionmaker
from app.models import Asset, AssetPrice, FxRate
from test_scripts.factories import ECB_DAY, make_asset, make_prices, make_rates

T = TypeVar("T")


async def _load_one(engine: AsyncEngine, model: type[T]) -> T:
    async with create_sessionmaker(engine)() as fresh:
        return (await fresh.scalars(select(model))).one()


def _skip_unless_sqlite(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("how SQLite stores the value; PostgreSQL stores NUMERIC")


@pytest.mark.parametrize(
    "value", ["0.0000000001", "99999999999999.9999999999", "1.1172"], ids=["smallest", "largest", "ecb"]
)
async def test_store_rate_round_trips_exactly(session: AsyncSession, engine: AsyncEngine, value: str) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, value)])

    loaded = await _load_one(engine, FxRate)

    assert loaded.rate == Decimal(value)


async def test_store_quantity_round_trips_exactly(session: AsyncSession, engine: AsyncEngine) -> None:
    await make_asset(session, quantity=Decimal("12345678901234567890.12345678"))

    loaded = await _load_one(engine, Asset)

    assert loaded.quantity == Decimal("12345678901234567890.12345678")


async def test_store_price_round_trips_exactly(session: AsyncSession, engine: AsyncEngine) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {ECB_DAY: Decimal("9999999999999999.99999999")})

    loaded = await _load_one(engine, AssetPrice)

    assert loaded.price == Decimal("9999999999999999.99999999")


async def test_load_decimal_columns_gives_decimal_instances(session: AsyncSession, engine: AsyncEngine) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1172")])
    asset = await make_asset(session, quantity=Decimal("2.5"))
    await make_prices(session, asset, {ECB_DAY: "101.25"})

    rate, loaded_asset, price = (
        await _load_one(engine, FxRate), await _load_one(engine, Asset), await _load_one(engine, AssetPrice)
    )  # fmt: skip

    assert {"rate": type(rate.rate), "quantity": type(loaded_asset.quantity), "price": type(price.price)} == {
        "rate": Decimal, "quantity": Decimal, "price": Decimal,
    }  # fmt: skip


async def test_store_decimal_on_sqlite_keeps_text(session: AsyncSession, engine: AsyncEngine) -> None:
    _skip_unless_sqlite(engine)
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1172")])
    asset = await make_asset(session)
    await make_prices(session, asset, {ECB_DAY: "101.25"})

    async with engine.connect() as connection:
        storage = (
            await connection.execute(
                text(
                    "SELECT (SELECT typeof(rate) FROM fx_rates), (SELECT typeof(quantity) FROM assets),"
                    " (SELECT typeof(price) FROM asset_prices)"
                )
            )
        ).one()

    assert tuple(storage) == ("text", "text", "text")


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    ("table", "column", "precision", "scale"),
    [("fx_rates", "rate", 24, 10), ("assets", "quantity", 28, 8), ("asset_prices", "price", 24, 8)],
)
async def test_migrate_decimal_column_on_postgres_is_numeric(
    engine: AsyncEngine, table: str, column: str, precision: int, scale: int
) -> None:
    async with engine.connect() as connection:
        declared = (
            await connection.execute(
                text(
                    "SELECT data_type, numeric_precision, numeric_scale FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = :table AND column_name = :column"
                ),
                {"table": table, "column": column},
            )
        ).one()

    assert tuple(declared) == ("numeric", precision, scale)


async def test_store_equal_rates_gives_equal_stored_text(session: AsyncSession, engine: AsyncEngine) -> None:
    await make_rates(session, [("EUR", "USD", date(2026, 10, 29), "1.1"), ("EUR", "USD", date(2026, 10, 30), "1.10")])

    async with engine.connect() as connection:
        stored = (await connection.scalars(text("SELECT CAST(rate AS TEXT) FROM fx_rates ORDER BY rate_date"))).all()

    assert stored == ["1.1000000000", "1.1000000000"]


async def test_store_aware_datetime_loads_as_utc(session: AsyncSession, engine: AsyncEngine) -> None:
    plus_two = timezone(timedelta(hours=2))
    await make_asset(session, created_at=datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=plus_two))

    loaded = (await _load_one(engine, Asset)).created_at

    assert loaded.tzinfo is UTC
    assert loaded.replace(tzinfo=None) == datetime(2026, 3, 28, 23, 30, 15, 123456)


async def test_store_naive_datetime_refused(clean_db: AsyncEngine) -> None:
    now = datetime.now(UTC)
    row = {"name": "ACME Corp", "kind": "stock", "currency": "USD", "quantity": Decimal("10"),
           "created_at": now, "updated_at": datetime(2026, 10, 30, 12, 0)}  # fmt: skip

    async with clean_db.connect() as connection:
        with pytest.raises(StatementError, match="naive datetime .* timestamps must carry a time zone") as caught:
            await connection.execute(insert(Asset.__table__).values(**row))

    assert type(caught.value.orig) is ValueError


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("123456789012345"), "123456789012345 has more than 14 digits before the decimal point"),
        (Decimal("1.12345678901"), "1.12345678901 has more than 10 decimal places"),
        (Decimal("NaN"), "NaN is not a finite number"),
    ],
)
async def test_store_rate_the_column_cannot_hold_refused_alike(clean_db: AsyncEngine, value: Decimal, message: str) -> None:
    # PostgreSQL would refuse the first itself and round the second; SQLite would keep both as text.
    row = {"base": "EUR", "quote": "USD", "rate_date": ECB_DAY, "rate": value, "source": "t", "updated_at": datetime.now(UTC)}

    async with clean_db.connect() as connection:
        with pytest.raises(StatementError, match=message) as caught:
            await connection.execute(insert(FxRate.__table__).values(**row))

    assert type(caught.value.orig) is ValueError


async def test_store_negative_zero_as_zero(session: AsyncSession, engine: AsyncEngine) -> None:
    await make_asset(session, quantity=Decimal("-0"))

    async with engine.connect() as connection:
        stored = await connection.scalar(text("SELECT CAST(quantity AS TEXT) FROM assets"))

    assert stored == "0.00000000"
    assert (await _load_one(engine, Asset)).quantity.as_tuple().sign == 0
