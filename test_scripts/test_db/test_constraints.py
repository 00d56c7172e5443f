"""The constraints the migrations create, enforced by the database itself.

Rows go in with Core `insert()` on a connection of the `engine`, so no ORM check runs first, and
inside a transaction that is never committed: a row the database refuses (or wrongly accepts)
never outlives its test.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import String, delete, func, insert, literal, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.db.base import utcnow
from app.models import Asset, AssetPrice, Currency, FxRate
from test_scripts.factories import ECB_DAY

RATES = FxRate.__table__
ASSETS = Asset.__table__
PRICES = AssetPrice.__table__


def _rate(**overrides: Any) -> dict[str, Any]:
    row = {"base": "EUR", "quote": "USD", "rate_date": ECB_DAY, "rate": Decimal("1.1172"), "source": "test",
           "updated_at": utcnow()}  # fmt: skip
    row.update(overrides)
    return row


def _asset(**overrides: Any) -> dict[str, Any]:
    now = utcnow()
    row = {"name": "ACME Corp", "kind": "stock", "currency": "USD", "quantity": Decimal("10"), "created_at": now,
           "updated_at": now}  # fmt: skip
    row.update(overrides)
    return row


def _price(asset_id: int, **overrides: Any) -> dict[str, Any]:
    row = {"asset_id": asset_id, "price_date": ECB_DAY, "price": Decimal("101.25"), "updated_at": utcnow()}
    row.update(overrides)
    return row


async def _add_asset(connection: AsyncConnection, **overrides: Any) -> int:
    result = await connection.execute(insert(ASSETS).values(**_asset(**overrides)))
    return result.inserted_primary_key[0]


def _message(engine: AsyncEngine, *, sqlite: str, postgresql: str) -> str:
    """The pattern of the database's own error for one constraint (SQLite names only CHECKs)."""
    return re.escape({"sqlite": sqlite, "postgresql": postgresql}[engine.dialect.name])


def _check_message(name: str) -> str:
    # Both databases name a failed CHECK constraint in their message.
    return re.escape(name)


def _foreign_key_message(engine: AsyncEngine, name: str) -> str:
    return _message(engine, sqlite="FOREIGN KEY constraint failed", postgresql=f'foreign key constraint "{name}"')


async def test_insert_rate_duplicate_pair_and_date_refused(clean_db: AsyncEngine) -> None:
    pattern = _message(
        clean_db,
        sqlite="UNIQUE constraint failed: fx_rates.base, fx_rates.quote, fx_rates.rate_date",
        postgresql='unique constraint "uq_fx_rates_base_quote_rate_date"',
    )
    async with clean_db.connect() as connection:
        await connection.execute(insert(RATES).values(**_rate(rate=Decimal("1.1172"))))

        with pytest.raises(IntegrityError, match=pattern):
            await connection.execute(insert(RATES).values(**_rate(rate=Decimal("1.2"))))


async def test_insert_rate_same_pair_on_another_date_accepted(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        await connection.execute(insert(RATES).values(**_rate(rate_date=date(2026, 10, 29))))
        await connection.execute(insert(RATES).values(**_rate(rate_date=date(2026, 10, 30))))

        assert await connection.scalar(select(func.count()).select_from(RATES)) == 2


@pytest.mark.parametrize("rate", [Decimal("0"), Decimal("-0.0000000001"), Decimal("-1.1172")])
async def test_insert_rate_not_positive_refused(clean_db: AsyncEngine, rate: Decimal) -> None:
    async with clean_db.connect() as connection:
        with pytest.raises(IntegrityError, match=_check_message("ck_fx_rates_rate_positive")):
            await connection.execute(insert(RATES).values(**_rate(rate=rate)))


async def test_insert_rate_smallest_positive_accepted(clean_db: AsyncEngine) -> None:
    # On SQLite the rate is text and the check casts it: the cast must not round 1e-10 to zero.
    async with clean_db.connect() as connection:
        await connection.execute(insert(RATES).values(**_rate(rate=Decimal("0.0000000001"))))

        assert await connection.scalar(select(RATES.c.rate)) == Decimal("0.0000000001")


async def test_insert_rate_same_base_and_quote_refused(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        with pytest.raises(IntegrityError, match=_check_message("ck_fx_rates_distinct_currencies")):
            await connection.execute(insert(RATES).values(**_rate(base="USD", quote="USD")))


@pytest.mark.parametrize(
    ("column", "constraint"), [("base", "fk_fx_rates_base_currencies"), ("quote", "fk_fx_rates_quote_currencies")]
)
async def test_insert_rate_unknown_currency_refused(clean_db: AsyncEngine, column: str, constraint: str) -> None:
    async with clean_db.connect() as connection:
        with pytest.raises(IntegrityError, match=_foreign_key_message(clean_db, constraint)):
            await connection.execute(insert(RATES).values(**_rate(**{column: "XXX"})))


async def test_connect_sqlite_turns_foreign_keys_on(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PRAGMA foreign_keys is SQLite's; PostgreSQL always enforces foreign keys")
    # The pragma is per connection: two connections held at once are two distinct DBAPI connections.
    async with engine.connect() as first, engine.connect() as second:
        pragmas = [await first.scalar(text("PRAGMA foreign_keys")), await second.scalar(text("PRAGMA foreign_keys"))]

    assert pragmas == [1, 1]


async def test_insert_asset_unknown_currency_refused(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        with pytest.raises(IntegrityError, match=_foreign_key_message(clean_db, "fk_assets_currency_currencies")):
            await connection.execute(insert(ASSETS).values(**_asset(currency="XXX")))


async def test_insert_asset_kind_outside_enum_refused(clean_db: AsyncEngine) -> None:
    # A plain String bind skips the Enum type's own Python-side validation: only the CHECK is left.
    async with clean_db.connect() as connection:
        with pytest.raises(IntegrityError, match=_check_message("ck_assets_assetkind")):
            await connection.execute(insert(ASSETS).values(**_asset(kind=literal("gold", String()))))


async def test_insert_asset_negative_quantity_refused(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        with pytest.raises(IntegrityError, match=_check_message("ck_assets_quantity_non_negative")):
            await connection.execute(insert(ASSETS).values(**_asset(quantity=Decimal("-0.00000001"))))


async def test_insert_asset_zero_quantity_accepted(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        await _add_asset(connection, quantity=Decimal("0"))

        assert await connection.scalar(select(ASSETS.c.quantity)) == Decimal("0")


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("-0.00000001"), Decimal("-101.25")])
async def test_insert_price_not_positive_refused(clean_db: AsyncEngine, price: Decimal) -> None:
    async with clean_db.connect() as connection:
        asset_id = await _add_asset(connection)

        with pytest.raises(IntegrityError, match=_check_message("ck_asset_prices_price_positive")):
            await connection.execute(insert(PRICES).values(**_price(asset_id, price=price)))


async def test_insert_price_duplicate_asset_and_date_refused(clean_db: AsyncEngine) -> None:
    pattern = _message(
        clean_db,
        sqlite="UNIQUE constraint failed: asset_prices.asset_id, asset_prices.price_date",
        postgresql='unique constraint "uq_asset_prices_asset_id_price_date"',
    )
    async with clean_db.connect() as connection:
        asset_id = await _add_asset(connection)
        await connection.execute(insert(PRICES).values(**_price(asset_id, price=Decimal("101.25"))))

        with pytest.raises(IntegrityError, match=pattern):
            await connection.execute(insert(PRICES).values(**_price(asset_id, price=Decimal("99"))))


async def test_insert_price_same_date_for_another_asset_accepted(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        first, second = await _add_asset(connection, name="First"), await _add_asset(connection, name="Second")
        await connection.execute(insert(PRICES).values(**_price(first)))
        await connection.execute(insert(PRICES).values(**_price(second)))

        assert await connection.scalar(select(func.count()).select_from(PRICES)) == 2


async def test_insert_price_unknown_asset_refused(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        missing = (await connection.scalar(select(func.coalesce(func.max(ASSETS.c.id), 0)))) + 1

        with pytest.raises(IntegrityError, match=_foreign_key_message(clean_db, "fk_asset_prices_asset_id_assets")):
            await connection.execute(insert(PRICES).values(**_price(missing)))


async def test_delete_asset_cascades_to_its_prices(clean_db: AsyncEngine) -> None:
    async with clean_db.connect() as connection:
        doomed, kept = await _add_asset(connection, name="Doomed"), await _add_asset(connection, name="Kept")
        await connection.execute(
            insert(PRICES),
            [_price(doomed, price_date=date(2026, 10, 29)), _price(doomed, price_date=date(2026, 10, 30)),
             _price(kept, price_date=date(2026, 10, 30))],
        )  # fmt: skip

        await connection.execute(delete(ASSETS).where(ASSETS.c.id == doomed))

        remaining = (await connection.execute(select(PRICES.c.asset_id, PRICES.c.price_date))).all()
    assert [tuple(row) for row in remaining] == [(kept, date(2026, 10, 30))]


async def test_insert_currency_minor_units_out_of_range_refused(clean_db: AsyncEngine) -> None:
    # Currencies are shared reference data; the transaction is rolled back whatever happens.
    async with clean_db.connect() as connection:
        with pytest.raises(IntegrityError, match=_check_message("ck_currencies_minor_units_range")):
            await connection.execute(insert(Currency.__table__).values(code="ZZZ", name="Test", minor_units=5))
