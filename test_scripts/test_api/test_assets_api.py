"""/api/v1/assets: CRUD, prices and valuation of one asset."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Asset, AssetKind, AssetPrice
from test_scripts.factories import AUTH, make_asset, make_ecb_day, make_prices
from test_scripts.test_api.test_fx_api import error_fields

pytestmark = pytest.mark.usefixtures("clean_db")

NEW_ASSET = {"name": "Toyota Motor", "kind": "stock", "currency": "JPY", "quantity": "150"}


async def count(session: AsyncSession, model: type) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_create_asset_returns_it_with_timestamps(client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    response = await client.post("/api/v1/assets", json=NEW_ASSET, headers=AUTH)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in NEW_ASSET} == NEW_ASSET
    created = datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None
    assert before <= created <= datetime.now(UTC)
    assert body["updated_at"] == body["created_at"]


async def test_create_asset_keeps_quantity_exact(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/assets", json=NEW_ASSET | {"quantity": "0.12345678"}, headers=AUTH)
    fetched = await client.get(f"/api/v1/assets/{response.json()['id']}")
    assert fetched.json()["quantity"] == "0.12345678"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"kind": "painting"}, "body.kind", "Input should be 'cash', 'stock', 'bond', 'fund' or 'crypto'"),
        ({"quantity": "-1"}, "body.quantity", "Input should be greater than or equal to 0"),
        ({"quantity": "1e400"}, "body.quantity", "Decimal input should have no more than 28 digits in total"),
        ({"name": ""}, "body.name", "String should have at least 1 character"),
        ({"name": "   "}, "body.name", "Value error, must not be blank"),
        ({"name": "a\nb"}, "body.name", "Value error, must not contain control characters (newlines, tabs, NUL ...)"),
        ({"name": "x" * 201}, "body.name", "String should have at most 200 characters"),
        ({"currency": "jpy"}, "body.currency", "Value error, must be a three-letter ISO 4217 code in capitals, such as USD (got 'jpy')"),
        ({"colour": "red"}, "body.colour", "Extra inputs are not permitted"),
    ],
)
async def test_create_asset_rejects_bad_fields(client: httpx.AsyncClient, session: AsyncSession, change: dict, field: str, message: str) -> None:
    response = await client.post("/api/v1/assets", json=NEW_ASSET | change, headers=AUTH)
    assert response.status_code == 422
    assert error_fields(response) == {field: message}
    assert await count(session, Asset) == 0


async def test_create_asset_accepts_unicode_name(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/assets", json=NEW_ASSET | {"name": "トヨタ自動車 株式 – 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"}, headers=AUTH)
    fetched = await client.get(f"/api/v1/assets/{response.json()['id']}")
    assert fetched.json()["name"] == "トヨタ自動車 株式 – 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"


async def test_create_asset_unknown_currency_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    response = await client.post("/api/v1/assets", json=NEW_ASSET | {"currency": "XYZ"}, headers=AUTH)
    assert response.status_code == 422
    assert error_fields(response) == {"body.currency": "unknown currency 'XYZ'; GET /api/v1/fx/currencies lists the known ones"}
    assert await count(session, Asset) == 0


async def test_get_unknown_asset_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/assets/999999")
    assert (response.status_code, response.json()) == (404, {"detail": "asset 999999 does not exist"})


@pytest.mark.parametrize("asset_id", ["0", "-3", str(2**63), "abc"])
async def test_get_asset_rejects_impossible_id(client: httpx.AsyncClient, asset_id: str) -> None:
    response = await client.get(f"/api/v1/assets/{asset_id}")
    assert response.status_code == 422
    assert list(error_fields(response)) == ["path.asset_id"]


async def test_list_assets_filters_by_kind_and_currency(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_asset(session, name="A", kind=AssetKind.stock, currency="USD")
    b = await make_asset(session, name="B", kind=AssetKind.bond, currency="USD")
    await make_asset(session, name="C", kind=AssetKind.bond, currency="EUR")
    response = await client.get("/api/v1/assets", params={"kind": "bond", "currency": "USD"})
    assert [a["id"] for a in response.json()["items"]] == [b.id]
    assert response.json()["total"] == 1


async def test_list_assets_paginates_in_id_order(client: httpx.AsyncClient, session: AsyncSession) -> None:
    made = [await make_asset(session, name=f"asset {i}") for i in range(5)]
    response = await client.get("/api/v1/assets", params={"limit": 2, "offset": 2})
    body = response.json()
    assert [a["id"] for a in body["items"]] == [made[2].id, made[3].id]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)


async def test_update_asset_changes_only_given_fields(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    response = await client.patch(f"/api/v1/assets/{asset.id}", json={"quantity": "12.5"}, headers=AUTH)
    body = response.json()
    assert (body["name"], body["kind"], body["currency"], body["quantity"]) == ("ACME Corp", "stock", "USD", "12.5")
    assert datetime.fromisoformat(body["updated_at"]) > datetime.fromisoformat(body["created_at"])


async def test_update_asset_rejects_null_field(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    response = await client.patch(f"/api/v1/assets/{asset.id}", json={"name": None}, headers=AUTH)
    assert error_fields(response) == {"body.name": "Value error, may be left out, but not set to null"}


async def test_update_asset_unknown_currency_changes_nothing(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    response = await client.patch(f"/api/v1/assets/{asset.id}", json={"currency": "XYZ", "name": "renamed"}, headers=AUTH)
    assert response.status_code == 422
    fetched = await client.get(f"/api/v1/assets/{asset.id}")
    assert (fetched.json()["name"], fetched.json()["currency"]) == ("ACME Corp", "USD")


async def test_delete_asset_removes_it_and_its_prices(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-29": "10", "2026-10-30": "11"})
    response = await client.delete(f"/api/v1/assets/{asset.id}", headers=AUTH)
    assert (response.status_code, response.content) == (204, b"")
    assert (await client.get(f"/api/v1/assets/{asset.id}")).status_code == 404
    assert await count(session, AssetPrice) == 0


async def test_delete_unknown_asset_is_404(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/assets/424242", headers=AUTH)
    assert response.status_code == 404


# --- prices -----------------------------------------------------------------------------------


async def test_upsert_prices_counts_and_lists_newest_first(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-28": "100", "2026-10-29": "101"})
    body = {"prices": [
        {"date": "2026-10-28", "price": "100.00"},  # same
        {"date": "2026-10-29", "price": "102.5"},   # changed
        {"date": "2026-10-30", "price": "103"},     # new
    ]}  # fmt: skip
    response = await client.post(f"/api/v1/assets/{asset.id}/prices", json=body, headers=AUTH)
    assert response.json() == {"inserted": 1, "updated": 1, "skipped": 1}
    listed = await client.get(f"/api/v1/assets/{asset.id}/prices")
    assert listed.json()["items"] == [
        {"date": "2026-10-30", "price": "103"}, {"date": "2026-10-29", "price": "102.5"}, {"date": "2026-10-28", "price": "100"},
    ]  # fmt: skip


async def test_upsert_prices_rejects_duplicate_dates_and_writes_nothing(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    prices = [{"date": "2026-10-30", "price": "1"}, {"date": "2026-10-30", "price": "2"}]
    response = await client.post(f"/api/v1/assets/{asset.id}/prices", json={"prices": prices}, headers=AUTH)
    assert error_fields(response) == {
        "body.prices": "Value error, prices[1] repeats the date of prices[0] (2026-10-30); each date may appear once per request"
    }
    assert await count(session, AssetPrice) == 0


@pytest.mark.parametrize(
    ("price", "message"),
    [("0", "Input should be greater than 0"), ("-2", "Input should be greater than 0"), ("1.123456789", "Decimal input should have no more than 8 decimal places")],
)
async def test_upsert_prices_rejects_bad_price(client: httpx.AsyncClient, session: AsyncSession, price: str, message: str) -> None:
    asset = await make_asset(session)
    prices = [{"date": "2026-10-29", "price": "5"}, {"date": "2026-10-30", "price": price}]
    response = await client.post(f"/api/v1/assets/{asset.id}/prices", json={"prices": prices}, headers=AUTH)
    assert error_fields(response) == {"body.prices.1.price": message}
    assert await count(session, AssetPrice) == 0


async def test_upsert_prices_for_unknown_asset_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/assets/77777/prices", json={"prices": [{"date": "2026-10-30", "price": "1"}]}, headers=AUTH)
    assert response.status_code == 404


# --- valuation --------------------------------------------------------------------------------


async def test_value_asset_uses_latest_price_and_converts(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    asset = await make_asset(session, currency="USD", quantity="10")
    await make_prices(session, asset, {"2026-10-28": "99", "2026-10-29": "101.25", "2026-10-31": "500"})
    response = await client.get(f"/api/v1/assets/{asset.id}/valuation", params={"currency": "EUR", "date": "2026-10-30"})
    assert response.json() == {
        "asset_id": asset.id, "name": "ACME Corp", "quantity": "10", "asset_currency": "USD",
        "price": "101.25", "price_date": "2026-10-29", "value_in_asset_currency": "1012.5",
        "currency": "EUR", "fx_rate": "0.895094880057", "fx_rate_date": "2026-10-30", "fx_path": "inverse",
        # 1012.5 / 1.1172 = 906.283566...
        "value": "906.28",
    }  # fmt: skip


async def test_value_cash_needs_no_price(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    asset = await make_asset(session, kind=AssetKind.cash, currency="GBP", quantity="1000")
    response = await client.get(f"/api/v1/assets/{asset.id}/valuation", params={"currency": "JPY", "date": "2026-10-30"})
    body = response.json()
    # 1000 / 0.8338 * 175.68 = 210697.9131...
    assert (body["price"], body["price_date"], body["fx_path"], body["value"]) == ("1", None, "cross", "210698")


async def test_value_asset_without_price_is_404(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-31": "5"})
    response = await client.get(f"/api/v1/assets/{asset.id}/valuation", params={"currency": "USD", "date": "2026-10-30"})
    assert (response.status_code, response.json()) == (404, {"detail": f"asset {asset.id} has no price on or before 2026-10-30"})


async def test_value_asset_without_rate_is_404(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    await make_prices(session, asset, {"2026-10-30": "5"})
    response = await client.get(f"/api/v1/assets/{asset.id}/valuation", params={"currency": "EUR", "date": "2026-10-30"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no USD->EUR rate on 2026-10-30")


async def test_value_asset_unknown_target_currency_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    response = await client.get(f"/api/v1/assets/{asset.id}/valuation", params={"currency": "ABC"})
    assert error_fields(response) == {"query.currency": "unknown currency 'ABC'; GET /api/v1/fx/currencies lists the known ones"}
