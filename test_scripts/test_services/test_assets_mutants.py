"""More tests for backend/app/services/assets.py: behaviour that `./test_runner.py mutate` found unasserted.

Each test pins something a caller or an operator relies on, which a mutant of assets.py changed
while every test in test_assets_service.py still passed: totals of empty lists, paging, one
asset's prices kept apart from another's, timestamps, exact products, the log lines. Expected
values were worked out with Python's decimal module at 100 digits, not with the code under test.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AssetKind, AssetPrice
from app.schemas.assets import AssetCreate, AssetUpdate, PriceIn
from app.schemas.fx import UpsertResult
from app.services import assets
from app.services.errors import UnknownCurrency
from test_scripts.factories import ECB_DAY, make_asset, make_prices
from test_scripts.test_services.test_assets_service import EUR_PIVOT, stored_prices, value

WRITE_TIME = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The service's clock, stopped at WRITE_TIME."""
    monkeypatch.setattr(assets, "utcnow", lambda: WRITE_TIME)
    return WRITE_TIME


@pytest.fixture
def assets_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The service's log records from INFO up (the root logger's WARNING would hide them)."""
    caplog.set_level(logging.INFO, logger=assets.logger.name)
    return caplog


def messages(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(record.levelname, record.getMessage()) for record in caplog.records]


# --- create, update, delete -------------------------------------------------------------------


async def test_create_logs_the_new_asset(session: AsyncSession, assets_log: pytest.LogCaptureFixture) -> None:
    data = AssetCreate(name="Savings", kind=AssetKind.cash, currency="EUR", quantity=Decimal("1"))
    asset = await assets.create(session=session, data=data)
    assert messages(assets_log) == [("INFO", f"created asset {asset.id} (cash)")]


async def test_update_unknown_currency_names_the_body_field(session: AsyncSession) -> None:
    asset = await make_asset(session)
    with pytest.raises(UnknownCurrency) as caught:
        await assets.update(session=session, asset=asset, changes=AssetUpdate(currency="XAU"))
    # The API answers 422 with loc ["body", "currency"]: the currency came in the request's body.
    assert (caught.value.code, caught.value.field, caught.value.location) == ("XAU", "currency", "body")


async def test_delete_logs_the_deleted_asset(session: AsyncSession, assets_log: pytest.LogCaptureFixture) -> None:
    asset = await make_asset(session)
    asset_id = asset.id
    await assets.delete(session=session, asset=asset)
    assert messages(assets_log) == [("INFO", f"deleted asset {asset_id}")]


# --- lists: empty totals, open date ranges, paging ------------------------------------------------


async def test_list_assets_of_nothing_totals_zero(session: AsyncSession) -> None:
    assert await assets.list_assets(session=session, kind=None, currency=None, limit=50, offset=0) == ([], 0)


async def test_list_prices_of_an_unpriced_asset_totals_zero(session: AsyncSession) -> None:
    asset = await make_asset(session)
    rows, total = await assets.list_prices(session=session, asset=asset, start=None, end=None, limit=50, offset=0)
    assert (list(rows), total) == ([], 0)


async def test_list_prices_from_a_start_date_without_end(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-28": "1", "2026-10-29": "2", "2026-10-30": "3"})
    rows, total = await assets.list_prices(
        session=session, asset=asset, start=date(2026, 10, 29), end=None, limit=50, offset=0
    )
    assert ([p.price_date for p in rows], total) == ([date(2026, 10, 30), date(2026, 10, 29)], 2)


async def test_list_prices_up_to_an_end_date_without_start(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-28": "1", "2026-10-29": "2", "2026-10-30": "3"})
    rows, total = await assets.list_prices(
        session=session, asset=asset, start=None, end=date(2026, 10, 29), limit=50, offset=0
    )
    assert ([p.price_date for p in rows], total) == ([date(2026, 10, 29), date(2026, 10, 28)], 2)


async def test_list_prices_pages_with_offset(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-28": "1", "2026-10-29": "2", "2026-10-30": "3"})
    rows, total = await assets.list_prices(session=session, asset=asset, start=None, end=None, limit=1, offset=1)
    assert ([p.price_date for p in rows], total) == ([date(2026, 10, 29)], 3)


# --- upsert_prices: one asset's prices only, every count, timestamps ---------------------------


async def test_upsert_prices_leaves_another_assets_price_on_the_same_date(session: AsyncSession) -> None:
    asset = await make_asset(session, name="Mine")
    other = await make_asset(session, name="Other")
    await make_prices(session, other, {"2026-10-30": "50"})
    result = await assets.upsert_prices(
        session=session, asset=asset, prices=[PriceIn(date=date(2026, 10, 30), price=Decimal("101"))]
    )
    assert result == UpsertResult(inserted=1, updated=0, skipped=0)
    assert await stored_prices(session) == [
        (asset.id, date(2026, 10, 30), Decimal("101")),
        (other.id, date(2026, 10, 30), Decimal("50")),
    ]


async def test_upsert_prices_counts_every_insert_and_update(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-27": "1", "2026-10-28": "2"})
    result = await assets.upsert_prices(session=session, asset=asset, prices=[
        PriceIn(date=date(2026, 10, 27), price=Decimal("10")), PriceIn(date=date(2026, 10, 28), price=Decimal("20")),
        PriceIn(date=date(2026, 10, 29), price=Decimal("30")), PriceIn(date=date(2026, 10, 30), price=Decimal("40")),
    ])  # fmt: skip
    assert result == UpsertResult(inserted=2, updated=2, skipped=0)


async def test_upsert_prices_stamps_new_prices_with_the_write_time(session: AsyncSession, frozen_now: datetime) -> None:
    asset = await make_asset(session)
    await assets.upsert_prices(
        session=session, asset=asset, prices=[PriceIn(date=date(2026, 10, 30), price=Decimal("101"))]
    )
    session.expire_all()
    assert list(await session.scalars(select(AssetPrice.updated_at))) == [frozen_now]


# --- value: the asset's own price, every digit of the product ------------------------------------


async def test_value_uses_the_assets_own_latest_price(session: AsyncSession) -> None:
    asset = await make_asset(session)
    other = await make_asset(session, name="Other")
    await make_prices(session, asset, {"2026-10-28": "150"})
    await make_prices(session, other, {"2026-10-30": "999"})
    valuation = await value(session, asset, "USD")
    assert (valuation.price, valuation.price_date, valuation.value) == (
        Decimal("150"), date(2026, 10, 28), Decimal("1500.00")
    )  # fmt: skip


async def test_value_keeps_every_digit_of_quantity_times_price(session: AsyncSession) -> None:
    # 28 + 24 significant digits: the product has 52, far more than decimal's default 28.
    asset = await make_asset(session, quantity=Decimal("12345678901234567890.12345678"))
    await make_prices(session, asset, {"2026-10-30": "9876543210987654.32109876"})
    valuation = await value(session, asset, "USD")
    assert valuation.value_in_asset_currency == Decimal(
        "121932631137021795226184965581771675.0370523389715928"
    )

