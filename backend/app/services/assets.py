"""Assets, their prices and their valuation: the business logic behind /api/v1/assets."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, localcontext
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.models.assets import Asset, AssetKind, AssetPrice
from app.schemas.assets import AssetCreate, AssetUpdate, AssetValuation, PortfolioValuation, PriceIn, UnvaluedAsset
from app.schemas.fx import UpsertResult
from app.services import fx, upserts
from app.services.errors import AssetNotFound, PriceNotFound, RateNotFound

logger = logging.getLogger(__name__)


async def get(*, session: AsyncSession, asset_id: int) -> Asset | None:
    return await session.get(Asset, asset_id)


async def list_assets(
    *, session: AsyncSession, kind: AssetKind | None, currency: str | None, limit: int, offset: int
) -> tuple[Sequence[Asset], int]:
    conditions = []
    if kind is not None:
        conditions.append(Asset.kind == kind)
    if currency is not None:
        conditions.append(Asset.currency == currency)
    total = await session.scalar(select(func.count()).select_from(Asset).where(*conditions))
    rows = await session.scalars(select(Asset).where(*conditions).order_by(Asset.id).limit(limit).offset(offset))
    return rows.all(), total or 0


async def create(*, session: AsyncSession, data: AssetCreate) -> Asset:
    await fx.minor_units(session=session, codes={"currency": data.currency}, location="body")
    now = utcnow()
    asset = Asset(**data.model_dump(), created_at=now, updated_at=now)
    session.add(asset)
    await session.commit()
    logger.info("created asset %d (%s)", asset.id, asset.kind)
    return asset


async def update(*, session: AsyncSession, asset: Asset, changes: AssetUpdate) -> Asset:
    """Set every field `changes` names, in one UPDATE; `asset` shows the result.

    The ORM's flush would write only the fields that differ from what we read. Under concurrent
    edits that mixes two of them: a field we read as already holding our value may have been
    changed by another edit since, and that edit's value would stay beside ours.
    """
    values = changes.model_dump(exclude_unset=True)
    if not values:
        return asset
    if "currency" in values:
        await fx.minor_units(session=session, codes={"currency": values["currency"]}, location="body")
    await upserts.lock_for_writing(session)
    # synchronize_session (the default, "auto") copies the values onto `asset` as well.
    result = await session.execute(
        sql_update(Asset).where(Asset.id == asset.id).values(**values, updated_at=utcnow())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise AssetNotFound(asset.id)  # deleted by another request since we read it
    await session.commit()
    return asset


async def delete(*, session: AsyncSession, asset: Asset) -> None:
    await session.delete(asset)
    await session.commit()
    logger.info("deleted asset %d", asset.id)


async def upsert_prices(*, session: AsyncSession, asset: Asset, prices: Sequence[PriceIn]) -> UpsertResult:
    """Insert new prices, update changed ones, skip equal ones; all or nothing.

    The counts are exact, and the prices are written as a whole, even while other requests write
    the same dates (see `app.services.upserts`).
    """
    now = utcnow()
    rows = [{"asset_id": asset.id, "price_date": p.date, "price": p.price, "updated_at": now} for p in prices]
    result = await upserts.upsert(
        session=session, table=AssetPrice.__table__, rows=rows, key=("asset_id", "price_date"), value="price"
    )
    await session.commit()
    return result


async def list_prices(
    *, session: AsyncSession, asset: Asset, start: date | None, end: date | None, limit: int, offset: int
) -> tuple[Sequence[AssetPrice], int]:
    conditions = [AssetPrice.asset_id == asset.id]
    if start is not None:
        conditions.append(AssetPrice.price_date >= start)
    if end is not None:
        conditions.append(AssetPrice.price_date <= end)
    total = await session.scalar(select(func.count()).select_from(AssetPrice).where(*conditions))
    rows = await session.scalars(
        select(AssetPrice).where(*conditions).order_by(AssetPrice.price_date.desc()).limit(limit).offset(offset)
    )
    return rows.all(), total or 0


async def _latest_price(session: AsyncSession, asset: Asset, on: date) -> AssetPrice:
    price = await session.scalar(
        select(AssetPrice)
        .where(AssetPrice.asset_id == asset.id, AssetPrice.price_date <= on)
        .order_by(AssetPrice.price_date.desc())
        .limit(1)
    )
    if price is None:
        raise PriceNotFound(asset.id, on)
    return price


async def value(
    *, session: AsyncSession, asset: Asset, currency: str, on: date, policy: fx.FxPolicy
) -> AssetValuation:
    """Quantity x the latest price on or before `on`, converted into `currency` on `on`.

    Cash needs no price: one unit of it is worth one unit of its currency.
    """
    if asset.kind is AssetKind.cash:
        unit_price, price_date = Decimal(1), None
    else:
        latest = await _latest_price(session, asset, on)
        unit_price, price_date = latest.price, latest.price_date
    # At most 28 + 24 digits: 60 keep the product exact.
    with localcontext(prec=60):
        local_value = asset.quantity * unit_price
    conversion = await fx.convert(
        session=session, amount=local_value, from_currency=asset.currency, to_currency=currency, on=on, policy=policy
    )
    return AssetValuation(
        asset_id=asset.id,
        name=asset.name,
        quantity=asset.quantity,
        asset_currency=asset.currency,
        price=unit_price,
        price_date=price_date,
        value_in_asset_currency=local_value,
        currency=currency,
        fx_rate=conversion.rate,
        fx_rate_date=conversion.rate_date,
        fx_path=conversion.path,
        value=conversion.result,
    )


async def value_portfolio(*, session: AsyncSession, currency: str, on: date, policy: fx.FxPolicy) -> PortfolioValuation:
    """Every asset valued in `currency`; the ones that cannot be, with the reason."""
    target = await fx.minor_units(session=session, codes={"currency": currency})
    lines: list[AssetValuation] = []
    unvalued: list[UnvaluedAsset] = []
    for asset in await session.scalars(select(Asset).order_by(Asset.id)):
        try:
            lines.append(await value(session=session, asset=asset, currency=currency, on=on, policy=policy))
        except PriceNotFound as exc:
            unvalued.append(UnvaluedAsset(asset_id=asset.id, name=asset.name, reason="no_price", detail=str(exc)))
        except RateNotFound as exc:
            unvalued.append(UnvaluedAsset(asset_id=asset.id, name=asset.name, reason="no_rate", detail=str(exc)))
    # The lines are already rounded; summing them as Fractions keeps every digit of large totals.
    total = fx.round_money(sum((Fraction(line.value) for line in lines), Fraction(0)), target[currency])
    return PortfolioValuation(currency=currency, date=on, total=total, assets=lines, unvalued=unvalued)
