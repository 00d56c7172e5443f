"""/api/v1/portfolio/valuation."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AssetKind
from test_scripts.factories import make_asset, make_ecb_day, make_prices, make_rates
from test_scripts.test_api.test_fx_api import error_fields

pytestmark = pytest.mark.usefixtures("clean_db")


async def test_value_portfolio_totals_lines_and_names_unvalued(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    stock = await make_asset(session, name="ACME", currency="USD", quantity="10")
    await make_prices(session, stock, {"2026-10-30": "111.72"})
    cash = await make_asset(session, name="Wallet", kind=AssetKind.cash, currency="EUR", quantity="250.5")
    unpriced = await make_asset(session, name="Unpriced bond", kind=AssetKind.bond, currency="EUR")
    no_rate = await make_asset(session, name="Krona fund", kind=AssetKind.fund, currency="SEK")
    await make_prices(session, no_rate, {"2026-10-30": "5"})

    response = await client.get("/api/v1/portfolio/valuation", params={"currency": "EUR", "date": "2026-10-30"})
    body = response.json()
    # 10 x 111.72 USD / 1.1172 = 1000.00 EUR; cash 250.50 EUR.
    assert [(line["asset_id"], line["value"]) for line in body["assets"]] == [(stock.id, "1000.00"), (cash.id, "250.50")]
    assert body["total"] == "1250.50"
    assert body["unvalued"] == [
        {"asset_id": unpriced.id, "name": "Unpriced bond", "reason": "no_price",
         "detail": f"asset {unpriced.id} has no price on or before 2026-10-30"},
        {"asset_id": no_rate.id, "name": "Krona fund", "reason": "no_rate",
         "detail": "no SEK->EUR rate on 2026-10-30 or in the 7 days before it (direct, inverse or through EUR)"},
    ]  # fmt: skip


async def test_value_portfolio_total_is_sum_of_rounded_lines(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "JPY", "2026-10-30", "3")])
    for _ in range(3):
        await make_asset(session, kind=AssetKind.cash, currency="EUR", quantity="0.5")  # 1.5 JPY -> 2 each
    response = await client.get("/api/v1/portfolio/valuation", params={"currency": "JPY", "date": "2026-10-30"})
    assert [line["value"] for line in response.json()["assets"]] == ["2", "2", "2"]
    assert response.json()["total"] == "6"


async def test_value_empty_portfolio_is_zero_in_minor_units(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/portfolio/valuation", params={"currency": "USD", "date": "2026-10-30"})
    assert response.json() == {"currency": "USD", "date": "2026-10-30", "total": "0.00", "assets": [], "unvalued": []}


async def test_value_portfolio_unknown_currency_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/portfolio/valuation", params={"currency": "QQQ"})
    assert error_fields(response) == {"query.currency": "unknown currency 'QQQ'; GET /api/v1/fx/currencies lists the known ones"}
