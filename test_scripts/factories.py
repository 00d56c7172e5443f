"""Test data, made through the ORM with defaults a test overrides only where it matters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.models import Asset, AssetKind, AssetPrice, FxRate

API_TOKEN = "test-token-7f3a"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}

# The ECB's reference rates of 2026-10-30 and 2026-10-29 (from the bundled history).
ECB_DAY = date(2026, 10, 30)


async def make_rates(
    session: AsyncSession, rows: Iterable[tuple[str, str, date | str, Decimal | str]], *, source: str = "test"
) -> list[FxRate]:
    """Store (base, quote, date, rate) rows and commit."""
    now = utcnow()
    rates = [
        FxRate(
            base=base, quote=quote, rate_date=date.fromisoformat(on) if isinstance(on, str) else on,
            rate=Decimal(rate), source=source, updated_at=now,
        )
        for base, quote, on, rate in rows
    ]  # fmt: skip
    session.add_all(rates)
    await session.commit()
    return rates


async def make_ecb_day(session: AsyncSession, on: date = ECB_DAY) -> list[FxRate]:
    """The EUR rates of one real ECB day for USD, JPY, GBP and CHF."""
    return await make_rates(session, [("EUR", "USD", on, "1.1172"), ("EUR", "JPY", on, "175.68"),
                                      ("EUR", "GBP", on, "0.8338"), ("EUR", "CHF", on, "0.9194")])  # fmt: skip


async def make_asset(session: AsyncSession, **overrides: Any) -> Asset:
    """An asset (by default 10 units of a USD stock), committed."""
    now = utcnow()
    fields: dict[str, Any] = {
        "name": "ACME Corp", "kind": AssetKind.stock, "currency": "USD", "quantity": Decimal("10"),
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    fields.update(overrides)
    asset = Asset(**fields)
    session.add(asset)
    await session.commit()
    return asset


async def make_prices(session: AsyncSession, asset: Asset, prices: dict[date | str, Decimal | str]) -> list[AssetPrice]:
    now = utcnow()
    rows = [
        AssetPrice(
            asset_id=asset.id, price_date=date.fromisoformat(on) if isinstance(on, str) else on,
            price=Decimal(price), updated_at=now,
        )
        for on, price in prices.items()
    ]  # fmt: skip
    session.add_all(rows)
    await session.commit()
    return rows
