"""Tests for backend/app/services/assets.py: assets, their prices and their valuation.

Expected values were worked out with Python's decimal module at 100 digits, not with the code
under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Asset, AssetKind, AssetPrice
from app.schemas.assets import AssetCreate, AssetUpdate, AssetValuation, PriceIn, UnvaluedAsset
from app.schemas.fx import UpsertResult
from app.services import assets
from app.services.errors import PriceNotFound, RateNotFound, UnknownCurrency
from app.services.fx import FxPolicy
from test_scripts.factories import ECB_DAY, make_asset, make_ecb_day, make_prices

EUR_PIVOT = FxPolicy(pivot="EUR", max_staleness_days=7)
CREATED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The service's clock, stopped at NOW."""
    monkeypatch.setattr(assets, "utcnow", lambda: NOW)
    return NOW


async def count(session: AsyncSession, model: type[Asset] | type[AssetPrice]) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def stored_prices(session: AsyncSession) -> list[tuple[int, date, Decimal]]:
    """Every stored price as (asset_id, date, price), in that order."""
    rows = await session.execute(
        select(AssetPrice.asset_id, AssetPrice.price_date, AssetPrice.price)
        .order_by(AssetPrice.asset_id, AssetPrice.price_date)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def value(session: AsyncSession, asset: Asset, currency: str, on: date = ECB_DAY) -> AssetValuation:
    return await assets.value(session=session, asset=asset, currency=currency, on=on, policy=EUR_PIVOT)


# --- create, update, delete -------------------------------------------------------------------


async def test_create_stores_asset_with_equal_timestamps(session: AsyncSession, frozen_now: datetime) -> None:
    data = AssetCreate(name="Savings", kind=AssetKind.cash, currency="EUR", quantity=Decimal("2500.50"))
    asset = await assets.create(session=session, data=data)
    await session.refresh(asset)
    assert (asset.name, asset.kind, asset.currency, asset.quantity) == (
        "Savings", AssetKind.cash, "EUR", Decimal("2500.50")
    )  # fmt: skip
    assert (asset.created_at, asset.updated_at) == (NOW, NOW)
    assert await count(session, Asset) == 1


async def test_create_unknown_currency_raises_and_stores_nothing(session: AsyncSession) -> None:
    data = AssetCreate(name="Gold", kind=AssetKind.fund, currency="XAU", quantity=Decimal("1"))
    with pytest.raises(UnknownCurrency) as caught:
        await assets.create(session=session, data=data)
    assert (caught.value.code, caught.value.field, caught.value.location) == ("XAU", "currency", "body")
    assert await count(session, Asset) == 0


async def test_update_changes_only_given_fields_and_bumps_updated_at(
    session: AsyncSession, frozen_now: datetime
) -> None:
    asset = await make_asset(session, created_at=CREATED, updated_at=CREATED)
    await assets.update(session=session, asset=asset, changes=AssetUpdate(quantity=Decimal("12.5")))
    await session.refresh(asset)
    assert (asset.name, asset.kind, asset.currency, asset.quantity) == (
        "ACME Corp", AssetKind.stock, "USD", Decimal("12.5")
    )  # fmt: skip
    assert (asset.created_at, asset.updated_at) == (CREATED, NOW)


async def test_update_without_changes_keeps_updated_at(session: AsyncSession, frozen_now: datetime) -> None:
    asset = await make_asset(session, created_at=CREATED, updated_at=CREATED)
    await assets.update(session=session, asset=asset, changes=AssetUpdate())
    await session.refresh(asset)
    assert asset.updated_at == CREATED


async def test_update_unknown_currency_raises_and_changes_nothing(session: AsyncSession) -> None:
    asset = await make_asset(session, created_at=CREATED, updated_at=CREATED)
    with pytest.raises(UnknownCurrency) as caught:
        await assets.update(session=session, asset=asset, changes=AssetUpdate(name="Renamed", currency="XAU"))
    assert (caught.value.code, caught.value.field) == ("XAU", "currency")
    await session.refresh(asset)
    assert (asset.name, asset.currency, asset.updated_at) == ("ACME Corp", "USD", CREATED)


async def test_delete_removes_asset_and_cascades_to_its_prices(session: AsyncSession) -> None:
    doomed = await make_asset(session)
    kept = await make_asset(session, name="Kept")
    await make_prices(session, doomed, {"2026-10-29": "100", "2026-10-30": "101"})
    await make_prices(session, kept, {"2026-10-30": "50"})
    doomed_id = doomed.id
    await assets.delete(session=session, asset=doomed)
    assert await assets.get(session=session, asset_id=doomed_id) is None
    assert await stored_prices(session) == [(kept.id, date(2026, 10, 30), Decimal("50"))]


# --- list -------------------------------------------------------------------------------------


async def test_list_assets_filters_by_kind(session: AsyncSession) -> None:
    first = await make_asset(session, name="A")
    await make_asset(session, name="B", kind=AssetKind.cash)
    third = await make_asset(session, name="C", currency="EUR")
    rows, total = await assets.list_assets(session=session, kind=AssetKind.stock, currency=None, limit=50, offset=0)
    assert ([a.id for a in rows], total) == ([first.id, third.id], 2)


async def test_list_assets_filters_by_currency_and_kind_together(session: AsyncSession) -> None:
    await make_asset(session, name="A")
    await make_asset(session, name="B", kind=AssetKind.cash, currency="EUR")
    third = await make_asset(session, name="C", currency="EUR")
    rows, total = await assets.list_assets(session=session, kind=AssetKind.stock, currency="EUR", limit=50, offset=0)
    assert ([a.id for a in rows], total) == ([third.id], 1)


async def test_list_assets_pages_in_id_order_with_total_of_all_matches(session: AsyncSession) -> None:
    made = [await make_asset(session, name=name) for name in ("E", "D", "C", "B", "A")]
    rows, total = await assets.list_assets(session=session, kind=None, currency="USD", limit=2, offset=2)
    assert ([a.name for a in rows], total) == (["C", "B"], 5)
    assert [a.id for a in rows] == [made[2].id, made[3].id]


# --- prices -----------------------------------------------------------------------------------


async def test_upsert_prices_counts_inserted_updated_skipped(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-29": "100", "2026-10-30": "101"})
    result = await assets.upsert_prices(session=session, asset=asset, prices=[
        PriceIn(date=date(2026, 10, 29), price=Decimal("100.00")),  # equal, other scale
        PriceIn(date=date(2026, 10, 30), price=Decimal("102")),
        PriceIn(date=date(2026, 10, 31), price=Decimal("103")),
    ])  # fmt: skip
    assert result == UpsertResult(inserted=1, updated=1, skipped=1)
    assert await stored_prices(session) == [
        (asset.id, date(2026, 10, 29), Decimal("100")),
        (asset.id, date(2026, 10, 30), Decimal("102")),
        (asset.id, date(2026, 10, 31), Decimal("103")),
    ]


async def test_list_prices_filters_date_range_newest_first(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-28": "1", "2026-10-29": "2", "2026-10-30": "3", "2026-10-31": "4"})
    rows, total = await assets.list_prices(
        session=session, asset=asset, start=date(2026, 10, 29), end=date(2026, 10, 31), limit=2, offset=0
    )
    assert ([(p.price_date, p.price) for p in rows], total) == (
        [(date(2026, 10, 31), Decimal("4")), (date(2026, 10, 30), Decimal("3"))], 3
    )


# --- value ------------------------------------------------------------------------------------


async def test_value_stock_uses_latest_price_on_or_before_date_and_converts(session: AsyncSession) -> None:
    await make_ecb_day(session)
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-28": "150.25", "2026-10-30": "151.5", "2026-11-02": "160"})
    # 10 x 151.5 = 1515 USD; 1515 / 1.1172 = 1356.0687433...
    assert await value(session, asset, "EUR", on=date(2026, 10, 31)) == AssetValuation(
        asset_id=asset.id, name="ACME Corp", quantity=Decimal("10"), asset_currency="USD", price=Decimal("151.5"),
        price_date=date(2026, 10, 30), value_in_asset_currency=Decimal("1515"), currency="EUR",
        fx_rate=Decimal("0.895094880057"), fx_rate_date=ECB_DAY, fx_path="inverse", value=Decimal("1356.07"),
    )  # fmt: skip


async def test_value_cash_needs_no_price(session: AsyncSession) -> None:
    await make_ecb_day(session)
    asset = await make_asset(session, name="Savings", kind=AssetKind.cash, currency="EUR", quantity=Decimal("1000"))
    assert await value(session, asset, "USD") == AssetValuation(
        asset_id=asset.id, name="Savings", quantity=Decimal("1000"), asset_currency="EUR", price=Decimal(1),
        price_date=None, value_in_asset_currency=Decimal("1000"), currency="USD",
        fx_rate=Decimal("1.1172"), fx_rate_date=ECB_DAY, fx_path="direct", value=Decimal("1117.20"),
    )  # fmt: skip


async def test_value_without_price_on_or_before_raises_price_not_found(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-31": "151.5"})
    with pytest.raises(PriceNotFound) as caught:
        await value(session, asset, "USD")
    assert (caught.value.asset_id, caught.value.on) == (asset.id, ECB_DAY)


async def test_value_without_rate_propagates_rate_not_found(session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-30": "151.5"})
    with pytest.raises(RateNotFound) as caught:
        await value(session, asset, "GBP")
    assert (caught.value.from_currency, caught.value.to_currency, caught.value.on) == ("USD", "GBP", ECB_DAY)


# --- value_portfolio --------------------------------------------------------------------------


async def test_value_portfolio_totals_the_rounded_lines(session: AsyncSession) -> None:
    await make_ecb_day(session)
    for name in ("Wallet", "Purse"):
        await make_asset(session, name=name, kind=AssetKind.cash, currency="EUR", quantity=Decimal("1.005"))
    stock = await make_asset(session)
    await make_prices(session, stock, {"2026-10-30": "151.5"})
    portfolio = await assets.value_portfolio(session=session, currency="USD", on=ECB_DAY, policy=EUR_PIVOT)
    # 1.005 x 1.1172 = 1.122786 -> 1.12 twice, plus 1515.00: 1517.24 (the unrounded sum would be 1517.25).
    assert [line.value for line in portfolio.assets] == [Decimal("1.12"), Decimal("1.12"), Decimal("1515.00")]
    assert str(portfolio.total) == "1517.24"


async def test_value_portfolio_lists_unvalued_assets_with_reasons(session: AsyncSession) -> None:
    await make_ecb_day(session)
    unpriced = await make_asset(session, name="Unpriced")
    dinars = await make_asset(session, name="Dinars", kind=AssetKind.cash, currency="BHD", quantity=Decimal("10"))
    portfolio = await assets.value_portfolio(session=session, currency="USD", on=ECB_DAY, policy=EUR_PIVOT)
    assert portfolio.unvalued == [
        UnvaluedAsset(asset_id=unpriced.id, name="Unpriced", reason="no_price",
                      detail=f"asset {unpriced.id} has no price on or before 2026-10-30"),
        UnvaluedAsset(asset_id=dinars.id, name="Dinars", reason="no_rate",
                      detail="no BHD->USD rate on 2026-10-30 or in the 7 days before it "
                             "(direct, inverse or through EUR)"),
    ]  # fmt: skip
    assert (portfolio.assets, str(portfolio.total)) == ([], "0.00")


async def test_value_portfolio_lists_assets_in_id_order(session: AsyncSession) -> None:
    await make_ecb_day(session)
    made = [
        await make_asset(session, name=name, kind=AssetKind.cash, currency=currency, quantity=Decimal("1"))
        for name, currency in (("Zulu", "USD"), ("Alpha", "GBP"), ("Mike", "EUR"))
    ]
    portfolio = await assets.value_portfolio(session=session, currency="USD", on=ECB_DAY, policy=EUR_PIVOT)
    assert [(line.asset_id, line.name) for line in portfolio.assets] == [(a.id, a.name) for a in made]


@pytest.mark.parametrize(("currency", "total"), [("USD", "0.00"), ("JPY", "0"), ("CLF", "0.0000")])
async def test_value_portfolio_empty_totals_zero_in_minor_units(
    session: AsyncSession, currency: str, total: str
) -> None:
    portfolio = await assets.value_portfolio(session=session, currency=currency, on=ECB_DAY, policy=EUR_PIVOT)
    assert (portfolio.assets, portfolio.unvalued) == ([], [])
    assert portfolio.total.as_tuple() == Decimal(total).as_tuple()


async def test_value_portfolio_unknown_currency_names_field(session: AsyncSession) -> None:
    with pytest.raises(UnknownCurrency) as caught:
        await assets.value_portfolio(session=session, currency="XAU", on=ECB_DAY, policy=EUR_PIVOT)
    assert (caught.value.code, caught.value.field) == ("XAU", "currency")
