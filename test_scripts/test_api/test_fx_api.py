"""/api/v1/fx: currencies, rates, latest, bulk upsert, convert and sync."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FxRate
from app.schemas.common import utc_today
from test_scripts.factories import AUTH, make_ecb_day, make_rates
from test_scripts.fake_provider import FakeProvider, Mode

pytestmark = pytest.mark.usefixtures("clean_db")


def error_fields(response: httpx.Response) -> dict[str, str]:
    """The 422 errors of a response as {"query.from": message}."""
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in response.json()["detail"]}


async def count_rates(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(FxRate)) or 0


# --- currencies -------------------------------------------------------------------------------


async def test_list_currencies_returns_seeded_iso_codes(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/currencies")
    assert response.status_code == 200
    by_code = {c["code"]: c for c in response.json()}
    assert len(by_code) == 45
    assert by_code["JPY"] == {"code": "JPY", "name": "Yen", "minor_units": 0}
    assert by_code["BHD"]["minor_units"] == 3


# --- convert ----------------------------------------------------------------------------------


async def test_convert_usd_to_jpy_crosses_through_eur(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    response = await client.get("/api/v1/fx/convert", params={"amount": "100", "from": "USD", "to": "JPY", "date": "2026-10-30"})
    assert response.status_code == 200
    body = response.json()
    # 100 / 1.1172 * 175.68 = 15725.0268..., rounded to JPY's 0 minor units.
    assert body["result"] == "15725"
    assert body["path"] == "cross"
    assert body["rate"] == "157.250268528"
    assert body["rate_date"] == "2026-10-30"
    assert body["stale_days"] == 0
    assert body["legs"] == [
        {"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.1172", "inverted": True},
        {"base": "EUR", "quote": "JPY", "date": "2026-10-30", "rate": "175.68", "inverted": False},
    ]


async def test_convert_direct_uses_stored_rate(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    response = await client.get("/api/v1/fx/convert", params={"amount": "2.50", "from": "EUR", "to": "USD", "date": "2026-10-30"})
    assert response.json()["path"] == "direct"
    assert response.json()["result"] == "2.79"  # 2.793 -> 2.79
    assert response.json()["rate"] == "1.1172"


async def test_convert_inverse_divides_by_stored_rate(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    response = await client.get("/api/v1/fx/convert", params={"amount": "1000", "from": "JPY", "to": "EUR", "date": "2026-10-30"})
    body = response.json()
    assert (body["path"], body["result"], body["rate"]) == ("inverse", "5.69", "0.00569216757741")


async def test_convert_rounds_half_even_to_minor_units(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-30", "1"), ("EUR", "JPY", "2026-10-30", "1")])
    # 0.125 USD -> 0.12 (half to even), 0.135 -> 0.14; JPY 2.5 -> 2, 3.5 -> 4.
    results = []
    for amount, to in (("0.125", "USD"), ("0.135", "USD"), ("2.5", "JPY"), ("3.5", "JPY")):
        response = await client.get("/api/v1/fx/convert", params={"amount": amount, "from": "EUR", "to": to, "date": "2026-10-30"})
        results.append(response.json()["result"])
    assert results == ["0.12", "0.14", "2", "4"]


async def test_convert_uses_three_minor_units_for_bhd(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "BHD", "2026-10-30", "0.42123")])
    response = await client.get("/api/v1/fx/convert", params={"amount": "10", "from": "EUR", "to": "BHD", "date": "2026-10-30"})
    assert response.json()["result"] == "4.212"


async def test_convert_falls_back_to_earlier_date_within_window(client: httpx.AsyncClient, session: AsyncSession) -> None:
    # 2026-10-31 is a Saturday: no ECB rates; Friday's are one day stale.
    await make_ecb_day(session)
    response = await client.get("/api/v1/fx/convert", params={"amount": "1", "from": "EUR", "to": "GBP", "date": "2026-11-01"})
    body = response.json()
    assert (body["rate_date"], body["stale_days"], body["requested_date"]) == ("2026-10-30", 2, "2026-11-01")


async def test_convert_prefers_newest_date_over_direct_path(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("USD", "EUR", "2026-10-28", "0.9"), ("EUR", "USD", "2026-10-30", "1.1172")])
    response = await client.get("/api/v1/fx/convert", params={"amount": "1", "from": "USD", "to": "EUR", "date": "2026-10-30"})
    assert (response.json()["path"], response.json()["rate_date"]) == ("inverse", "2026-10-30")


async def test_convert_beyond_staleness_window_is_404(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    response = await client.get("/api/v1/fx/convert", params={"amount": "1", "from": "EUR", "to": "USD", "date": "2026-11-07"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "no EUR->USD rate on 2026-11-07 or in the 7 days before it (direct, inverse or through EUR)"
    }


async def test_convert_same_currency_is_identity(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/convert", params={"amount": "12.345", "from": "USD", "to": "USD", "date": "2026-10-30"})
    body = response.json()
    assert (body["path"], body["result"], body["rate"], body["legs"]) == ("identity", "12.34", "1", [])


async def test_convert_defaults_date_to_today(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", utc_today() - timedelta(days=1), "1.2")])
    response = await client.get("/api/v1/fx/convert", params={"amount": "10", "from": "EUR", "to": "USD"})
    assert (response.json()["requested_date"], response.json()["result"]) == (utc_today().isoformat(), "12.00")


async def test_convert_large_amount_keeps_every_digit(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-30", "1.1172")])
    amount = "123456789012345678901234.12345678"
    response = await client.get("/api/v1/fx/convert", params={"amount": amount, "from": "EUR", "to": "USD", "date": "2026-10-30"})
    # Exact product: 137925924684592592468458.7627...; a float would have lost the last ten digits.
    assert response.json()["result"] == "137925924684592592468458.76"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"amount": "-5"}, "query.amount", "Input should be greater than or equal to 0"),
        ({"amount": "abc"}, "query.amount", "Input should be a valid decimal"),
        ({"amount": "NaN"}, "query.amount", "Input should be a finite number"),
        ({"amount": "1" * 30}, "query.amount", "Decimal input should have no more than 24 digits before the decimal point"),
        ({"amount": "1.123456789"}, "query.amount", "Decimal input should have no more than 8 decimal places"),
        ({"from": "usd"}, "query.from", "Value error, must be a three-letter ISO 4217 code in capitals, such as USD (got 'usd')"),
        ({"to": "DOLLAR"}, "query.to", "Value error, must be a three-letter ISO 4217 code in capitals, such as USD (got 'DOLLAR')"),
        ({"date": "30/10/2026"}, "query.date", "Input should be a valid date or datetime, invalid character in year"),
        ({"date": "2026-02-30"}, "query.date", "Input should be a valid date or datetime, day value is outside expected range"),
    ],
)
async def test_convert_rejects_bad_input(client: httpx.AsyncClient, params: dict[str, str], field: str, message: str) -> None:
    query = {"amount": "1", "from": "EUR", "to": "USD", "date": "2026-10-30"} | params
    response = await client.get("/api/v1/fx/convert", params=query)
    assert response.status_code == 422
    assert error_fields(response) == {field: message}


async def test_convert_rejects_future_date(client: httpx.AsyncClient) -> None:
    tomorrow = utc_today() + timedelta(days=1)
    response = await client.get("/api/v1/fx/convert", params={"amount": "1", "from": "EUR", "to": "USD", "date": tomorrow.isoformat()})
    assert response.status_code == 422
    assert error_fields(response) == {
        "query.date": f"Value error, must not be in the future (today is {utc_today().isoformat()} UTC)"
    }


async def test_convert_rejects_missing_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/convert")
    assert response.status_code == 422
    assert error_fields(response) == {"query.amount": "Field required", "query.from": "Field required", "query.to": "Field required"}


async def test_convert_unknown_currency_names_field(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/convert", params={"amount": "1", "from": "EUR", "to": "XYZ", "date": "2026-10-30"})
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "unknown_currency", "loc": ["query", "to"], "input": "XYZ",
        "msg": "unknown currency 'XYZ'; GET /api/v1/fx/currencies lists the known ones",
    }]}  # fmt: skip


# --- rates ------------------------------------------------------------------------------------


async def test_list_rates_filters_and_paginates(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session, date(2026, 10, 29))
    await make_ecb_day(session, date(2026, 10, 30))
    response = await client.get("/api/v1/fx/rates", params={"quote": "USD", "limit": 1, "offset": 1})
    assert response.json() == {
        "items": [{"base": "EUR", "quote": "USD", "date": "2026-10-29", "rate": "1.1172", "source": "test"}],
        "total": 2, "limit": 1, "offset": 1,
    }  # fmt: skip


async def test_list_rates_filters_by_inclusive_date_range(client: httpx.AsyncClient, session: AsyncSession) -> None:
    for day in (28, 29, 30):
        await make_rates(session, [("EUR", "USD", date(2026, 10, day), "1.1")])
    response = await client.get("/api/v1/fx/rates", params={"start": "2026-10-29", "end": "2026-10-30"})
    assert [r["date"] for r in response.json()["items"]] == ["2026-10-30", "2026-10-29"]


async def test_list_rates_rejects_reversed_range(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/rates", params={"start": "2026-10-30", "end": "2026-10-01"})
    assert response.status_code == 422
    assert error_fields(response) == {"query.start": "start (2026-10-30) must not be after end (2026-10-01)"}


@pytest.mark.parametrize(("params", "field"), [({"limit": 0}, "query.limit"), ({"limit": 501}, "query.limit"), ({"offset": -1}, "query.offset")])
async def test_list_rates_rejects_bad_page(client: httpx.AsyncClient, params: dict[str, int], field: str) -> None:
    response = await client.get("/api/v1/fx/rates", params=params)
    assert response.status_code == 422
    assert list(error_fields(response)) == [field]


async def test_latest_rates_derives_rates_for_non_pivot_base(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-29", "1.2")])
    await make_ecb_day(session)
    response = await client.get("/api/v1/fx/rates/latest", params={"base": "USD", "date": "2026-10-31"})
    assert response.json() == {
        "base": "USD", "date": "2026-10-30",
        "rates": {"CHF": "0.822950232725", "EUR": "0.895094880057", "GBP": "0.746330110992", "JPY": "157.250268528"},
    }  # fmt: skip


async def test_latest_rates_without_any_rate_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/rates/latest", params={"base": "EUR"})
    assert response.status_code == 404


# --- bulk upsert ------------------------------------------------------------------------------


async def test_upsert_rates_counts_inserted_updated_skipped(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-30", "1.1172"), ("EUR", "JPY", "2026-10-30", "175")])
    body = {"rates": [
        {"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.11720"},  # same value
        {"base": "EUR", "quote": "JPY", "date": "2026-10-30", "rate": "175.68"},   # changed
        {"base": "EUR", "quote": "GBP", "date": "2026-10-30", "rate": "0.8338"},   # new
    ]}  # fmt: skip
    response = await client.post("/api/v1/fx/rates", json=body, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"inserted": 1, "updated": 1, "skipped": 1}
    stored = await client.get("/api/v1/fx/rates", params={"quote": "JPY"})
    assert stored.json()["items"][0]["rate"] == "175.68"
    assert stored.json()["items"][0]["source"] == "api"


async def test_upsert_rates_with_unknown_currency_writes_nothing(client: httpx.AsyncClient, session: AsyncSession) -> None:
    body = {"rates": [
        {"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.1"},
        {"base": "EUR", "quote": "XXX", "date": "2026-10-30", "rate": "2"},
    ]}  # fmt: skip
    response = await client.post("/api/v1/fx/rates", json=body, headers=AUTH)
    assert response.status_code == 422
    assert error_fields(response) == {"body.rates[1].quote": "unknown currency 'XXX'; GET /api/v1/fx/currencies lists the known ones"}
    assert await count_rates(session) == 0


async def test_upsert_rates_rejects_duplicate_keys_and_writes_nothing(client: httpx.AsyncClient, session: AsyncSession) -> None:
    row = {"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.1"}
    response = await client.post("/api/v1/fx/rates", json={"rates": [row, {**row, "rate": "1.2"}]}, headers=AUTH)
    assert response.status_code == 422
    assert error_fields(response) == {
        "body.rates": "Value error, rates[1] repeats rates[0] (EUR/USD on 2026-10-30); "
        "each (base, quote, date) may appear once per request"
    }
    assert await count_rates(session) == 0


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"rate": "0"}, "body.rates.0.rate", "Input should be greater than 0"),
        ({"rate": "-1.5"}, "body.rates.0.rate", "Input should be greater than 0"),
        ({"rate": "1.12345678901"}, "body.rates.0.rate", "Decimal input should have no more than 10 decimal places"),
        ({"rate": "Infinity"}, "body.rates.0.rate", "Input should be a finite number"),
        ({"quote": "EUR"}, "body.rates", "Value error, rates[0]: base and quote are both EUR; a rate needs two currencies"),
        ({"date": "2026-13-01"}, "body.rates.0.date", "Input should be a valid date or datetime, month value is outside expected range of 1-12"),
    ],
)
async def test_upsert_rates_rejects_bad_rows(client: httpx.AsyncClient, change: dict[str, str], field: str, message: str) -> None:
    row = {"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.1"} | change
    response = await client.post("/api/v1/fx/rates", json={"rates": [row]}, headers=AUTH)
    assert response.status_code == 422
    assert error_fields(response) == {field: message}


async def test_upsert_rates_rejects_empty_list(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/fx/rates", json={"rates": []}, headers=AUTH)
    assert error_fields(response) == {"body.rates": "List should have at least 1 item after validation, not 0"}


async def test_upsert_rates_accepts_ten_thousand_rows(client: httpx.AsyncClient, session: AsyncSession) -> None:
    start = date(1999, 1, 4)
    rows = [
        {"base": "EUR", "quote": quote, "date": (start + timedelta(days=i)).isoformat(), "rate": f"1.{i:04d}"}
        for quote in ("USD", "GBP") for i in range(5000)
    ]  # fmt: skip
    response = await client.post("/api/v1/fx/rates", json={"rates": rows}, headers=AUTH)
    assert response.json() == {"inserted": 10_000, "updated": 0, "skipped": 0}, (response.status_code, response.text)
    assert await count_rates(session) == 10_000


# --- sync -------------------------------------------------------------------------------------


async def test_sync_ecb_file_loads_date_range(client: httpx.AsyncClient, session: AsyncSession) -> None:
    response = await client.post("/api/v1/fx/sync", json={"provider": "ecb_file", "start": "2026-10-26", "end": "2026-10-30"}, headers=AUTH)
    assert response.status_code == 200
    # 5 business days x 29 currencies quoted in October 2026.
    assert response.json() == {"provider": "ecb_file", "fetched": 145, "inserted": 145, "updated": 0, "skipped": 0, "unknown_currencies": []}
    converted = await client.get("/api/v1/fx/convert", params={"amount": "100", "from": "USD", "to": "JPY", "date": "2026-10-30"})
    assert converted.json()["result"] == "15725"


async def test_sync_twice_skips_unchanged_rates(client: httpx.AsyncClient) -> None:
    body = {"provider": "ecb_file", "start": "2026-10-30", "end": "2026-10-30"}
    await client.post("/api/v1/fx/sync", json=body, headers=AUTH)
    again = await client.post("/api/v1/fx/sync", json=body, headers=AUTH)
    assert again.json() == {"provider": "ecb_file", "fetched": 29, "inserted": 0, "updated": 0, "skipped": 29, "unknown_currencies": []}


async def test_sync_ecb_http_from_fake_provider(client: httpx.AsyncClient, fake_provider: FakeProvider) -> None:
    response = await client.post("/api/v1/fx/sync", json={"provider": "ecb_http"}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {"provider": "ecb_http", "fetched": 145, "inserted": 145, "updated": 0, "skipped": 0, "unknown_currencies": []}
    assert fake_provider.requests == 1


async def test_sync_ecb_http_retries_server_errors(client: httpx.AsyncClient, fake_provider: FakeProvider) -> None:
    fake_provider.mode, fake_provider.failures = Mode.HTTP_500, 2
    response = await client.post("/api/v1/fx/sync", json={"provider": "ecb_http"}, headers=AUTH)
    assert response.json()["inserted"] == 145
    assert fake_provider.requests == 3


@pytest.mark.parametrize("mode", [Mode.HTTP_500, Mode.GARBAGE, Mode.TRUNCATED, Mode.WRONG_XML, Mode.SLOW])
async def test_sync_ecb_http_bad_payload_is_502_and_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, fake_provider: FakeProvider, mode: Mode
) -> None:
    fake_provider.mode = mode
    response = await client.post("/api/v1/fx/sync", json={"provider": "ecb_http"}, headers=AUTH)
    assert response.status_code == 502
    assert response.json()["detail"].startswith("ecb_http: http://127.0.0.1:")
    assert await count_rates(session) == 0


async def test_sync_unknown_provider_lists_known_ones(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/fx/sync", json={"provider": "bloomberg"}, headers=AUTH)
    assert response.status_code == 422
    assert error_fields(response) == {"body.provider": "unknown provider 'bloomberg'; known: ecb_file, ecb_http"}


async def test_sync_rejects_reversed_range(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/fx/sync", json={"start": "2026-10-30", "end": "2026-10-01"}, headers=AUTH)
    assert error_fields(response) == {"body": "Value error, start (2026-10-30) must not be after end (2026-10-01)"}

