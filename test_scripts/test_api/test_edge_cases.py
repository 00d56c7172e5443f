"""Input that fuzzing rarely produces, and a regression test for each bug the fuzzer found.

Every bad input must get a 4xx whose message names the field and the rule, never a 500, and
must leave the data as it was. Runs on both databases (`--db postgres`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.models import Asset, AssetPrice, FxRate
from app.schemas.common import utc_today
from app.services import fx
from test_scripts.factories import API_TOKEN, AUTH, make_asset, make_ecb_day, make_rates
from test_scripts.test_api.test_fx_api import error_fields

pytestmark = pytest.mark.usefixtures("clean_db")

OPENAPI = create_app(Settings(_env_file=None, environment="test", api_token=API_TOKEN)).openapi()
NEW_ASSET = {"name": "Toyota Motor", "kind": "stock", "currency": "JPY", "quantity": "150"}
CONVERT = {"amount": "1", "from": "EUR", "to": "USD", "date": "2026-10-30"}
# The rule every decimal input states, in the messages below for a quantity and an amount.
QUANTITY_FORM = (
    'Value error, must be a string of plain digits with at most 20 before the point and 8 after it, such as "12.50" '
    "(no sign, exponent, spaces or leading zeros)"
)
AMOUNT_FORM = QUANTITY_FORM.replace("at most 20", "at most 24")


async def count(session: AsyncSession, model: type) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


def operations(*, methods: set[str] | None = None) -> list[tuple[str, str, dict]]:
    """(method, path, operation) of the app's OpenAPI schema."""
    return [
        (method.upper(), path, operation)
        for path, by_method in OPENAPI["paths"].items()
        for method, operation in by_method.items()
        if methods is None or method.upper() in methods
    ]


# --- the OpenAPI schema says what the app does (each was a fuzzing finding) ----------------------


@pytest.mark.parametrize(("method", "path", "operation"), operations(methods={"POST", "PATCH", "DELETE"}))
def test_openapi_documents_401_on_every_write(method: str, path: str, operation: dict) -> None:
    response = operation["responses"]["401"]
    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorMessage"}
    assert "WWW-Authenticate" in response["headers"]


@pytest.mark.parametrize(("method", "path", "operation"), [op for op in operations() if op[1] != "/health"])
def test_openapi_documents_503_on_every_database_route(method: str, path: str, operation: dict) -> None:
    assert operation["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorMessage"
    }


@pytest.mark.parametrize(
    ("method", "path", "operation"), [op for op in operations(methods={"POST", "PATCH"}) if "requestBody" in op[2]]
)
def test_openapi_documents_400_for_unreadable_body(method: str, path: str, operation: dict) -> None:
    assert "400" in operation["responses"]


def test_openapi_states_currency_code_pattern() -> None:
    parameters = {p["name"]: p["schema"] for p in OPENAPI["paths"]["/api/v1/fx/convert"]["get"]["parameters"]}
    assert (parameters["from"]["pattern"], parameters["to"]["pattern"]) == ("^[A-Z]{3}$", "^[A-Z]{3}$")


def test_openapi_patch_asset_offers_no_null() -> None:
    properties = OPENAPI["components"]["schemas"]["AssetUpdate"]["properties"]
    assert ["anyOf" in schema for schema in properties.values()] == [False, False, False, False]


def test_openapi_states_decimal_inputs_as_patterned_strings() -> None:
    rate = OPENAPI["components"]["schemas"]["RateIn"]["properties"]["rate"]
    assert rate == {
        "type": "string", "pattern": "^(?=[0-9.]*[1-9])(0|[1-9][0-9]{0,13})(\\.[0-9]{1,10})?$",
        "examples": ["12.50"], "title": "Rate",
    }  # fmt: skip


def test_openapi_lists_sync_providers() -> None:
    provider = OPENAPI["components"]["schemas"]["SyncRequest"]["properties"]["provider"]
    assert provider["enum"] == ["ecb_file", "ecb_http"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/assets", "GET, HEAD, POST"),
        ("PUT", "/api/v1/assets/1", "DELETE, GET, HEAD, PATCH"),
        ("OPTIONS", "/api/v1/assets/1/prices", "GET, HEAD, POST"),
        ("POST", "/api/v1/fx/convert", "GET, HEAD"),
    ],
)
async def test_unsupported_method_lists_every_method_of_the_resource(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    # Starlette listed only the methods of the first route whose path matched: "Allow: GET".
    response = await client.request(method, path, headers=AUTH)
    assert (response.status_code, response.headers["allow"]) == (405, allow)


async def test_body_that_is_not_utf8_is_400_as_documented(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/assets", content=b'{"name": "\xff\xfe"}', headers={**AUTH, "Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (400, {"detail": "There was an error parsing the body"})


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["0", "86400", "2026-10-30T00:00:00", "2026-10-30 00:00"])
async def test_date_that_is_not_yyyy_mm_dd_is_422(client: httpx.AsyncClient, start: str) -> None:
    # pydantic read 0 and 86400 as Unix times: start=0 meant 1970-01-01.
    response = await client.get("/api/v1/fx/rates", params={"start": start})
    assert error_fields(response) == {
        "query.start": f"Value error, must be a date written YYYY-MM-DD, such as 2026-10-30 (got {start!r})"
    }


async def test_date_as_json_number_in_body_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    response = await client.post(f"/api/v1/assets/{asset.id}/prices", json={"prices": [{"date": 0, "price": "1"}]}, headers=AUTH)
    assert error_fields(response) == {
        "body.prices.0.date": "Value error, must be a date written YYYY-MM-DD, such as 2026-10-30 (got 0)"
    }
    assert await count(session, AssetPrice) == 0


async def test_convert_on_first_day_of_calendar_is_404_not_500(client: httpx.AsyncClient) -> None:
    # Found by the fuzzer: the staleness window reached before 0001-01-01 (OverflowError, a 500).
    response = await client.get("/api/v1/fx/convert", params=CONVERT | {"date": "0001-01-01"})
    assert (response.status_code, response.json()) == (
        404, {"detail": "no EUR->USD rate on 0001-01-01 or in the 7 days before it (direct, inverse or through EUR)"},
    )  # fmt: skip


async def test_rate_on_first_day_of_calendar_is_stored_and_used(client: httpx.AsyncClient) -> None:
    rate = {"base": "EUR", "quote": "USD", "date": "0001-01-01", "rate": "1.5"}
    assert (await client.post("/api/v1/fx/rates", json={"rates": [rate]}, headers=AUTH)).json()["inserted"] == 1
    response = await client.get("/api/v1/fx/convert", params=CONVERT | {"amount": "2", "date": "0001-01-03"})
    body = response.json()
    assert (body["result"], body["rate_date"], body["stale_days"]) == ("3.00", "0001-01-01", 2)
    assert (await client.get("/api/v1/fx/rates", params={"end": "0001-01-01"})).json()["total"] == 1


async def test_last_day_of_calendar_is_refused_as_future(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/convert", params=CONVERT | {"date": "9999-12-31"})
    assert error_fields(response) == {"query.date": f"Value error, must not be in the future (today is {utc_today().isoformat()} UTC)"}


async def test_date_range_may_reach_the_last_day_of_calendar(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await make_ecb_day(session)
    response = await client.get("/api/v1/fx/rates", params={"start": "0001-01-01", "end": "9999-12-31"})
    assert response.json()["total"] == 4


@pytest.mark.parametrize(
    ("day", "error"),
    [
        ("2024-02-29", None),
        ("2000-02-29", None),  # divisible by 400: a leap year
        ("1900-02-29", "day value is outside expected range"),  # divisible by 100 only: not one
        ("2025-02-29", "day value is outside expected range"),
    ],
)
async def test_february_29_only_in_leap_years(
    client: httpx.AsyncClient, session: AsyncSession, day: str, error: str | None
) -> None:
    asset = await make_asset(session)
    response = await client.post(f"/api/v1/assets/{asset.id}/prices", json={"prices": [{"date": day, "price": "1"}]}, headers=AUTH)
    if error is None:
        assert response.json() == {"inserted": 1, "updated": 0, "skipped": 0}
        listed = await client.get(f"/api/v1/assets/{asset.id}/prices")
        assert listed.json()["items"] == [{"date": day, "price": "1"}]
    else:
        assert error_fields(response) == {"body.prices.0.date": f"Input should be a valid date or datetime, {error}"}
        assert await count(session, AssetPrice) == 0


# --- decimals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["1_000", "\u0661\u0662\u0663", "1e2", " 1.5", "+1", "01", "1.50000000000", ".5", "5."],
)
async def test_amount_in_any_but_plain_digits_is_422(client: httpx.AsyncClient, amount: str) -> None:
    # pydantic read each of these ("١٢٣" as 123, "1_000" as 1000); the schema offered none of them.
    response = await client.get("/api/v1/fx/convert", params=CONVERT | {"amount": amount})
    assert error_fields(response) == {"query.amount": AMOUNT_FORM}


async def test_quantity_as_json_number_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    response = await client.post("/api/v1/assets", json=NEW_ASSET | {"quantity": 0.1}, headers=AUTH)
    assert error_fields(response) == {"body.quantity": f"{QUANTITY_FORM}; a JSON number may already have lost digits"}
    assert await count(session, Asset) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "1" * 30, "Decimal input should have no more than 28 digits in total"),
        ("quantity", "1" * 21, "Decimal input should have no more than 20 digits before the decimal point"),
        ("quantity", "1." + "0" * 19 + "1", "Decimal input should have no more than 8 decimal places"),
    ],
)
async def test_create_asset_with_too_many_digits_is_422(
    client: httpx.AsyncClient, session: AsyncSession, field: str, value: str, message: str
) -> None:
    response = await client.post("/api/v1/assets", json=NEW_ASSET | {field: value}, headers=AUTH)
    assert error_fields(response) == {f"body.{field}": message}
    assert await count(session, Asset) == 0


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("1." + "0" * 19 + "1", "Decimal input should have no more than 10 decimal places"),  # 20 decimals
        ("1" * 30, "Decimal input should have no more than 24 digits in total"),
        ("1" * 15, "Decimal input should have no more than 14 digits before the decimal point"),
    ],
)
async def test_upsert_rates_with_too_many_digits_is_422(
    client: httpx.AsyncClient, session: AsyncSession, rate: str, message: str
) -> None:
    rows = [{"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.1"}, {"base": "EUR", "quote": "JPY", "date": "2026-10-30", "rate": rate}]
    response = await client.post("/api/v1/fx/rates", json={"rates": rows}, headers=AUTH)
    assert error_fields(response) == {"body.rates.1.rate": message}
    assert await count(session, FxRate) == 0


@pytest.mark.parametrize("rate", ["99999999999999.9999999999", "0.0000000001"])
async def test_rate_at_the_column_limits_is_stored_exactly(client: httpx.AsyncClient, rate: str) -> None:
    row = {"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": rate}
    assert (await client.post("/api/v1/fx/rates", json={"rates": [row]}, headers=AUTH)).status_code == 200
    listed = await client.get("/api/v1/fx/rates")
    assert listed.json()["items"][0]["rate"] == rate


async def test_value_portfolio_at_the_largest_quantity_price_and_rate_keeps_every_digit(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    quantity, price, rate = "9" * 20 + ".99999999", "9" * 16 + ".99999999", "99999999999999.9999999999"
    await make_rates(session, [("EUR", "USD", "2026-10-30", rate)])
    created = await client.post("/api/v1/assets", json=NEW_ASSET | {"currency": "EUR", "quantity": quantity}, headers=AUTH)
    prices = {"prices": [{"date": "2026-10-30", "price": price}]}
    await client.post(f"/api/v1/assets/{created.json()['id']}/prices", json=prices, headers=AUTH)
    response = await client.get("/api/v1/portfolio/valuation", params={"currency": "USD", "date": "2026-10-30"})
    with localcontext(prec=100):
        exact = (Decimal(quantity) * Decimal(price) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    assert response.json()["total"] == format(exact, "f")  # 52 digits, none lost to a float or a rounding


# --- names: Unicode, control characters, long strings -------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family office",  # emoji joined by zero-width joiners
        "Soci\u00e9t\u00e9\u00a0G\u00e9n\u00e9rale",  # no-break space
        "\u0623\u0631\u0627\u0645\u0643\u0648 \u0627\u0644\u0633\u0639\u0648\u062f\u064a\u0629",  # right-to-left script
        "e\u0301cole",  # a combining accent
        "\U0001d518" * 200,  # 200 characters of 4 bytes each: the limit counts characters
        "'; DROP TABLE assets; --",
    ],
)
async def test_create_asset_keeps_names_users_write(client: httpx.AsyncClient, name: str) -> None:
    created = await client.post("/api/v1/assets", json=NEW_ASSET | {"name": name}, headers=AUTH)
    assert created.status_code == 201
    fetched = await client.get(f"/api/v1/assets/{created.json()['id']}")
    assert fetched.json()["name"] == name


@pytest.mark.parametrize(
    "escaped",
    [
        "\\u0000",  # NUL: PostgreSQL cannot store it in text
        "\\u202e",  # right-to-left override: makes a name display as another
        "\\u2028",  # line separator
        "\\u0085",  # C1 next line
        "\\u001b[31m",  # an ANSI escape, which would colour a terminal reading the logs
    ],
)
async def test_create_asset_refuses_invisible_control_characters(
    client: httpx.AsyncClient, session: AsyncSession, escaped: str
) -> None:
    # Sent as JSON escapes: httpx cannot encode a lone surrogate itself.
    body = f'{{"name": "ACME{escaped}", "kind": "stock", "currency": "USD", "quantity": "1"}}'.encode()
    response = await client.post("/api/v1/assets", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert error_fields(response) == {"body.name": "Value error, must not contain control characters (newlines, tabs, NUL ...)"}
    assert await count(session, Asset) == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/assets", '{"name": "ACME\\ud800", "kind": "stock", "currency": "USD", "quantity": "1"}'),
        ("/api/v1/assets", '{"name": "ACME", "kind": "\\udfff", "currency": "USD", "quantity": "1"}'),
        ("/api/v1/fx/rates", '{"source": "\\ud83d", "rates": [{"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1"}]}'),
        ("/api/v1/fx/sync", '{"provider": "\\ud800"}'),
    ],
)
async def test_lone_surrogate_in_any_string_is_422_not_500(
    client: httpx.AsyncClient, session: AsyncSession, path: str, body: str
) -> None:
    # A JSON escape can spell a lone surrogate, which UTF-8 cannot encode: the 422 that echoed it
    # back failed to render and became a 500. Sent as escapes: httpx cannot encode one itself.
    response = await client.post(path, content=body.encode(), headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert (await count(session, Asset), await count(session, FxRate)) == (0, 0)


@pytest.mark.parametrize(
    ("method", "path", "request_kwargs", "field"),
    [
        ("POST", "/api/v1/assets", {"json": NEW_ASSET | {"name": "x" * 100_000}}, "body.name"),
        ("GET", "/api/v1/fx/convert", {"params": CONVERT | {"from": "E" * 10_000}}, "query.from"),
        ("GET", "/api/v1/fx/convert", {"params": CONVERT | {"amount": "9" * 5_000}}, "query.amount"),
        ("POST", "/api/v1/fx/rates", {"json": {"source": "s" * 33, "rates": [{"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1"}]}}, "body.source"),
        ("POST", "/api/v1/fx/sync", {"json": {"provider": "p" * 10_000}}, "body.provider"),
    ],
)
async def test_very_long_string_is_422_naming_the_field(
    client: httpx.AsyncClient, method: str, path: str, request_kwargs: dict, field: str
) -> None:
    response = await client.request(method, path, headers=AUTH, **request_kwargs)
    assert response.status_code == 422
    assert list(error_fields(response)) == [field]


# --- ids past every integer type ------------------------------------------------------------------

ASSET_ROUTES = [
    ("GET", "/api/v1/assets/{}"),
    ("PATCH", "/api/v1/assets/{}"),
    ("DELETE", "/api/v1/assets/{}"),
    ("GET", "/api/v1/assets/{}/prices"),
    ("POST", "/api/v1/assets/{}/prices"),
    ("GET", "/api/v1/assets/{}/valuation?currency=USD"),
]


@pytest.mark.parametrize(("method", "path"), ASSET_ROUTES)
@pytest.mark.parametrize("asset_id", [2**31, 2**63, 2**64, 10**30])
async def test_asset_id_past_the_column_type_is_422(client: httpx.AsyncClient, method: str, path: str, asset_id: int) -> None:
    body = {"prices": [{"date": "2026-10-30", "price": "1"}]} if method == "POST" else ({"name": "x"} if method == "PATCH" else None)
    response = await client.request(method, path.format(asset_id), json=body, headers=AUTH)
    assert error_fields(response) == {"path.asset_id": "Input should be less than or equal to 2147483647"}


@pytest.mark.parametrize(("name", "value"), [("offset", 2**63), ("limit", 2**63), ("offset", 10**30)])
async def test_page_past_the_integer_types_is_422(client: httpx.AsyncClient, name: str, value: int) -> None:
    response = await client.get("/api/v1/assets", params={name: value})
    assert response.status_code == 422
    assert list(error_fields(response)) == [f"query.{name}"]


async def test_create_asset_refuses_an_id_in_the_body(client: httpx.AsyncClient, session: AsyncSession) -> None:
    response = await client.post("/api/v1/assets", json=NEW_ASSET | {"id": 2**63}, headers=AUTH)
    assert error_fields(response) == {"body.id": "Extra inputs are not permitted"}
    assert await count(session, Asset) == 0


# --- bulk writes: size, duplicates, all or nothing -----------------------------------------------


def rate_rows(count_: int, *, start: date = date(1999, 1, 4)) -> list[dict[str, str]]:
    return [
        {"base": "EUR", "quote": quote, "date": (start + timedelta(days=i)).isoformat(), "rate": f"1.{i:04d}"}
        for quote in ("USD", "GBP") for i in range(count_ // 2)
    ]  # fmt: skip


async def test_upsert_prices_accepts_ten_thousand_rows(client: httpx.AsyncClient, session: AsyncSession) -> None:
    asset = await make_asset(session)
    prices = [{"date": (date(1990, 1, 1) + timedelta(days=i)).isoformat(), "price": f"{i + 1}.5"} for i in range(10_000)]
    response = await client.post(f"/api/v1/assets/{asset.id}/prices", json={"prices": prices}, headers=AUTH)
    assert response.json() == {"inserted": 10_000, "updated": 0, "skipped": 0}
    assert await count(session, AssetPrice) == 10_000


async def test_upsert_rates_refuses_ten_thousand_and_one_rows(client: httpx.AsyncClient, session: AsyncSession) -> None:
    rows = [*rate_rows(10_000), {"base": "EUR", "quote": "JPY", "date": "2026-10-30", "rate": "175"}]
    response = await client.post("/api/v1/fx/rates", json={"rates": rows}, headers=AUTH)
    assert error_fields(response) == {"body.rates": "List should have at most 10000 items after validation, not 10001"}
    assert await count(session, FxRate) == 0


async def test_upsert_rates_names_a_duplicate_far_from_its_first(client: httpx.AsyncClient, session: AsyncSession) -> None:
    rows = rate_rows(10_000)
    rows[-1] = {**rows[0], "rate": "9.9"}  # the same (base, quote, date), another rate: which one wins is ambiguous
    response = await client.post("/api/v1/fx/rates", json={"rates": rows}, headers=AUTH)
    assert error_fields(response) == {
        "body.rates": "Value error, rates[9999] repeats rates[0] (EUR/USD on 1999-01-04); "
        "each (base, quote, date) may appear once per request"
    }
    assert await count(session, FxRate) == 0


async def test_upsert_rates_unknown_currency_in_last_of_ten_thousand_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    rows = rate_rows(10_000)
    rows[-1]["quote"] = "XXX"
    response = await client.post("/api/v1/fx/rates", json={"rates": rows}, headers=AUTH)
    assert error_fields(response) == {"body.rates[9999].quote": "unknown currency 'XXX'; GET /api/v1/fx/currencies lists the known ones"}
    assert await count(session, FxRate) == 0


async def test_json_member_named_twice_takes_the_last_value(client: httpx.AsyncClient) -> None:
    # JSON leaves duplicate member names undefined; Python's parser, like JavaScript's, keeps the last.
    body = b'{"name": "first", "name": "last", "kind": "stock", "currency": "USD", "quantity": "1"}'
    response = await client.post("/api/v1/assets", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert (response.status_code, response.json()["name"]) == (201, "last")


async def test_bulk_upsert_failing_in_the_database_at_its_last_row_leaves_nothing(
    server_url: str, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """10,000 rows are written in two statements; the second fails on its last row, at the
    foreign key (we let an unknown currency past the app's own check). Nothing of the request
    may stay: not the 5,000 rows of the first statement, not the update of an existing rate."""
    await make_rates(session, [("EUR", "USD", "1999-01-04", "7")])
    known = await fx.known_currency_codes(session=session)

    async def known_plus_zzz(*, session: AsyncSession) -> set[str]:
        return known | {"ZZZ"}

    monkeypatch.setattr(fx, "known_currency_codes", known_plus_zzz)
    rows = rate_rows(10_000)
    rows[-1]["quote"] = "ZZZ"
    # Over real HTTP whatever --transport says: in process, the 500's exception reaches the client.
    async with httpx.AsyncClient(base_url=server_url, timeout=60) as client:
        response = await client.post("/api/v1/fx/rates", json={"rates": rows}, headers=AUTH)
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    rates = (await session.execute(select(FxRate.base, FxRate.quote, FxRate.rate))).all()
    assert [tuple(rate) for rate in rates] == [("EUR", "USD", Decimal("7"))]
