"""Attacks on the API: the bearer token, secrets in logs and bodies, SQL injection, CORS.

test_auth_api.py has the basic 401s (no header, a wrong token, another scheme); here are the
malformed headers, what the app leaks when things fail, and what reaches the database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.models import Asset, Currency, FxRate
from test_scripts.factories import API_TOKEN, AUTH, make_asset, make_ecb_day
from test_scripts.fake_provider import ECB_HISTORY_PATH, FakeProvider, Mode
from test_scripts.test_api.test_auth_api import write_routes
from test_scripts.test_api.test_health_api import closed_port
from test_scripts.test_server_helper import in_process_client, running_server

pytestmark = pytest.mark.usefixtures("clean_db")

NEW_ASSET = {"name": "ACME Corp", "kind": "stock", "currency": "USD", "quantity": "10"}
CHALLENGE = {"www-authenticate": "Bearer"}
NOT_VALID = "the bearer token is not valid"
NOT_BEARER = "the Authorization header must be 'Bearer <token>'"


# --- the bearer token ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), write_routes())
@pytest.mark.parametrize(
    ("header", "message"),
    [
        (f"Bearer {API_TOKEN} extra", NOT_VALID),
        (f"Bearer {API_TOKEN[:-1]}", NOT_VALID),  # a prefix of the right one
        (f"Bearer {API_TOKEN.upper()}", NOT_VALID),  # tokens are case-sensitive, schemes are not
        ("Bearer " + "x" * 8_000, NOT_VALID),
        (f"Bearer\t{API_TOKEN}", NOT_BEARER),
        (f"Token {API_TOKEN}", NOT_BEARER),
        (f"Bearer{API_TOKEN}", NOT_BEARER),
    ],
)
async def test_write_with_malformed_authorization_is_401(
    client: httpx.AsyncClient, method: str, path: str, header: str, message: str
) -> None:
    response = await client.request(method, path, headers={"Authorization": header}, json={})
    assert (response.status_code, response.json(), response.headers["www-authenticate"]) == (401, {"detail": message}, "Bearer")


@pytest.mark.parametrize("header", [f"Bearer {API_TOKEN}\u00e9".encode("latin-1"), b"Bearer \xff\xfe\x80"])
async def test_write_with_non_ascii_bytes_in_token_is_401(client: httpx.AsyncClient, header: bytes) -> None:
    response = await client.post("/api/v1/assets", headers={"Authorization": header}, json=NEW_ASSET)
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")


@pytest.mark.parametrize("header", [f"bearer {API_TOKEN}", f"BEARER {API_TOKEN}", f"Bearer   {API_TOKEN}"])
async def test_write_accepts_any_case_of_scheme_and_extra_spaces(client: httpx.AsyncClient, header: str) -> None:
    # RFC 9110: the scheme is case-insensitive (the token is not); spaces around the token are
    # not part of it (FastAPI strips them).
    response = await client.post("/api/v1/assets", headers={"Authorization": header}, json=NEW_ASSET)
    assert response.status_code == 201


async def test_huge_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/assets", headers={"Authorization": "Bearer " + "x" * 70_000}, json=NEW_ASSET)
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")


async def test_header_too_large_for_uvicorn_closes_the_connection_and_the_server_goes_on(server_url: str) -> None:
    # h11 refuses a request head of a megabyte before the app sees it: no answer, and no 500.
    async with httpx.AsyncClient(base_url=server_url, timeout=30) as client:
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            await client.post("/api/v1/assets", headers={"Authorization": "Bearer " + "x" * 1_000_000}, json=NEW_ASSET)
        assert (await client.get("/api/v1/fx/currencies")).status_code == 200


def read_operations() -> list[tuple[str, str]]:
    """(path, query) for every GET of the schema, with valid parameters filled in."""
    paths = create_app(Settings(_env_file=None, environment="test", api_token="x")).openapi()["paths"]
    required = {"/api/v1/fx/convert": "?amount=1&from=EUR&to=USD", "/api/v1/assets/{asset_id}/valuation": "?currency=USD",
                "/api/v1/portfolio/valuation": "?currency=USD"}  # fmt: skip
    return [(path, required.get(path, "")) for path, by_method in paths.items() if "get" in by_method]


@pytest.mark.parametrize(("path", "query"), read_operations())
async def test_every_read_answers_without_a_token(
    client: httpx.AsyncClient, session: AsyncSession, path: str, query: str
) -> None:
    await make_ecb_day(session)
    asset = await make_asset(session)
    response = await client.get(path.replace("{asset_id}", str(asset.id)) + query)
    assert response.status_code in (200, 404), response.text  # 404: no rate today; never a 401


def test_app_refuses_to_start_in_production_with_the_default_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("API_TOKEN", raising=False)
    monkeypatch.chdir("/")  # no .env file to read a token from
    with pytest.raises(ValidationError, match="API_TOKEN must be set to a secret of your own when ENVIRONMENT=production"):
        create_app()


def test_app_starts_in_production_with_a_token_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("API_TOKEN", "a-secret-of-our-own")
    monkeypatch.chdir("/")
    assert create_app().state.settings.api_token.get_secret_value() == "a-secret-of-our-own"


# --- no secret in logs or error bodies -----------------------------------------------------------

DB_PASSWORD = "pw-s3cret-db"
PROVIDER_PASSWORD = "pw-s3cret-provider"
PROVIDER_KEY = "key-s3cret-provider"


def assert_no_secret(*texts: str, secrets: tuple[str, ...]) -> None:
    leaked = [(secret, text_[:200]) for text_ in texts for secret in secrets if secret in text_]
    assert leaked == []


async def test_failed_auth_logs_and_answers_no_token(client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    guess = API_TOKEN[:-1] + "?"
    response = await client.post("/api/v1/assets", headers={"Authorization": f"Bearer {guess}"}, json=NEW_ASSET)
    assert response.status_code == 401
    assert_no_secret(caplog.text, response.text, str(response.headers), secrets=(API_TOKEN, guess))


async def test_database_down_logs_and_answers_no_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"postgresql+asyncpg://alice:{DB_PASSWORD}@127.0.0.1:{closed_port()}/nowhere"
    settings = Settings(_env_file=None, environment="test", api_token=API_TOKEN, database_url=url, database_echo=True)
    with running_server(create_app(settings)) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            read = await client.get("/api/v1/fx/currencies")
            write = await client.post("/api/v1/assets", json=NEW_ASSET, headers=AUTH)
    assert (read.status_code, write.status_code) == (503, 503)
    assert_no_secret(caplog.text, read.text, write.text, secrets=(DB_PASSWORD, API_TOKEN))


async def test_provider_failure_logs_and_answers_no_credentials(
    test_settings: Settings, fake_provider_server: tuple[str, FakeProvider], fake_provider: FakeProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    fake_url, _ = fake_provider_server
    with_credentials = fake_url.replace("http://", f"http://reader:{PROVIDER_PASSWORD}@") + f"{ECB_HISTORY_PATH}?key={PROVIDER_KEY}"
    fake_provider.mode = Mode.HTTP_500
    settings = test_settings.model_copy(update={"ecb_http_url": with_credentials})
    async with in_process_client(create_app(settings)) as client:
        response = await client.post("/api/v1/fx/sync", json={"provider": "ecb_http"}, headers=AUTH)
    assert response.status_code == 502
    assert response.json()["detail"].startswith(f"ecb_http: {fake_url}{ECB_HISTORY_PATH}: answered HTTP 500")
    assert_no_secret(caplog.text, response.text, secrets=(PROVIDER_PASSWORD, PROVIDER_KEY, API_TOKEN))


def test_settings_repr_shows_no_token() -> None:
    settings = Settings(_env_file=None, environment="test", api_token=API_TOKEN)
    assert_no_secret(repr(settings), str(settings), secrets=(API_TOKEN,))


def test_settings_repr_shows_no_database_password() -> None:
    settings = Settings(
        _env_file=None, environment="test", api_token=API_TOKEN,
        database_url=f"postgresql+asyncpg://alice:{DB_PASSWORD}@db:5432/app",
    )  # fmt: skip
    assert_no_secret(repr(settings), secrets=(DB_PASSWORD,))


# --- SQL only through bound parameters ---------------------------------------------------------

INJECTIONS = [
    "'; DROP TABLE assets; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "Robert'); DROP TABLE currencies;--",
    "1; DELETE FROM fx_rates",
    "%' OR name LIKE '%",
    "\\'; SELECT pg_sleep(10); --",
    "$$; DROP TABLE assets; $$",
    "USD' UNION SELECT code, name, minor_units FROM currencies --",
]


async def tables_snapshot(session: AsyncSession) -> tuple[int, int, int, list[str]]:
    """Rows per table, and the tables our migrations made (with the Alembic bookkeeping)."""
    names = ("alembic_version", "asset_prices", "assets", "currencies", "fx_rates")
    present = [name for name in names if await session.scalar(text(f"SELECT count(*) FROM {name}")) is not None]
    return (
        await session.scalar(select(func.count()).select_from(Currency)) or 0,
        await session.scalar(select(func.count()).select_from(FxRate)) or 0,
        await session.scalar(select(func.count()).select_from(Asset)) or 0,
        present,
    )


@pytest.mark.parametrize("injection", INJECTIONS)
async def test_injection_in_a_name_is_stored_and_echoed_verbatim(
    client: httpx.AsyncClient, session: AsyncSession, injection: str
) -> None:
    await make_ecb_day(session)
    created = await client.post("/api/v1/assets", json=NEW_ASSET | {"name": injection}, headers=AUTH)
    renamed = await client.patch(f"/api/v1/assets/{created.json()['id']}", json={"name": injection + " 2"}, headers=AUTH)
    listed = await client.get("/api/v1/assets")
    assert (created.json()["name"], renamed.json()["name"]) == (injection, injection + " 2")
    assert [asset["name"] for asset in listed.json()["items"]] == [injection + " 2"]
    assert await tables_snapshot(session) == (45, 4, 1, ["alembic_version", "asset_prices", "assets", "currencies", "fx_rates"])


def _every_text_input(injection: str) -> list[tuple[str, str, dict]]:
    """(method, path, request kwargs) putting `injection` in each query parameter and text field."""
    query = [
        ("/api/v1/fx/rates", name) for name in ("base", "quote", "start", "end", "limit", "offset")
    ] + [("/api/v1/fx/rates/latest", name) for name in ("base", "date")] + [
        ("/api/v1/fx/convert", name) for name in ("amount", "from", "to", "date")
    ] + [("/api/v1/assets", name) for name in ("kind", "currency", "limit")] + [
        ("/api/v1/portfolio/valuation", name) for name in ("currency", "date")
    ]  # fmt: skip
    valid = {"amount": "1", "from": "EUR", "to": "USD", "currency": "USD"}
    requests = [("GET", path, {"params": {**valid, name: injection}}) for path, name in query]
    rate = {"base": "EUR", "quote": "USD", "date": "2026-10-30", "rate": "1.1"}
    bodies = [
        ("/api/v1/fx/rates", {"rates": [rate], "source": injection}),
        ("/api/v1/fx/rates", {"rates": [rate | {"quote": injection}]}),
        ("/api/v1/fx/rates", {"rates": [rate | {"rate": injection}]}),
        ("/api/v1/fx/sync", {"provider": injection}),
        ("/api/v1/fx/sync", {"start": injection}),
        ("/api/v1/assets", NEW_ASSET | {"kind": injection}),
        ("/api/v1/assets", NEW_ASSET | {"currency": injection}),
        ("/api/v1/assets", NEW_ASSET | {"quantity": injection}),
    ]
    requests += [("POST", path, {"json": body, "headers": AUTH}) for path, body in bodies]
    requests.append(("GET", f"/api/v1/assets/{quote(injection, safe='')}", {}))
    return requests


@pytest.mark.parametrize("injection", [*INJECTIONS, "\x00", "USD\x00", "%00"])
async def test_injection_in_any_other_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, injection: str
) -> None:
    await make_ecb_day(session)
    await make_asset(session)
    statuses = []
    for method, path, kwargs in _every_text_input(injection):
        response = await client.request(method, path, **kwargs)
        statuses.append((method, path, response.status_code))
    # Every one of these fields has a type, a pattern or a list of values that the strings break.
    assert [s for s in statuses if s[2] not in (404, 422)] == []
    assert await tables_snapshot(session) == (45, 4, 1, ["alembic_version", "asset_prices", "assets", "currencies", "fx_rates"])


# --- CORS -------------------------------------------------------------------------------------

APP_ORIGIN = "https://app.example"
FOREIGN_ORIGIN = "https://evil.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


@pytest.fixture
async def cors_client(test_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with CORS opened to APP_ORIGIN only."""
    app: FastAPI = create_app(test_settings.model_copy(update={"cors_origins": [APP_ORIGIN]}))
    async with in_process_client(app) as client:
        yield client


async def test_cors_is_closed_by_default(client: httpx.AsyncClient) -> None:
    read = await client.get("/api/v1/fx/currencies", headers={"Origin": FOREIGN_ORIGIN})
    preflight = await client.options("/api/v1/assets", headers={"Origin": FOREIGN_ORIGIN, **PREFLIGHT})
    assert read.status_code == 200
    assert preflight.status_code == 405  # no CORS middleware: OPTIONS is just a method no route has
    assert [r.headers.get("access-control-allow-origin") for r in (read, preflight)] == [None, None]


async def test_cors_allows_a_configured_origin(cors_client: httpx.AsyncClient) -> None:
    read = await cors_client.get("/api/v1/fx/currencies", headers={"Origin": APP_ORIGIN})
    preflight = await cors_client.options("/api/v1/assets", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert (read.status_code, read.headers["access-control-allow-origin"]) == (200, APP_ORIGIN)
    assert (preflight.status_code, preflight.headers["access-control-allow-origin"]) == (200, APP_ORIGIN)
    assert preflight.headers["access-control-allow-methods"] == "GET, POST, PATCH, DELETE"
    assert "access-control-allow-credentials" not in preflight.headers  # a bearer token, not cookies


async def test_cors_refuses_an_origin_not_configured(cors_client: httpx.AsyncClient) -> None:
    read = await cors_client.get("/api/v1/fx/currencies", headers={"Origin": FOREIGN_ORIGIN})
    preflight = await cors_client.options("/api/v1/assets", headers={"Origin": FOREIGN_ORIGIN, **PREFLIGHT})
    assert "access-control-allow-origin" not in read.headers
    assert (preflight.status_code, preflight.text) == (400, "Disallowed CORS origin")
    assert "access-control-allow-origin" not in preflight.headers


async def test_cors_preflight_refuses_a_method_the_api_has_not(cors_client: httpx.AsyncClient) -> None:
    preflight = await cors_client.options(
        "/api/v1/assets", headers={"Origin": APP_ORIGIN, "Access-Control-Request-Method": "PUT"}
    )
    assert (preflight.status_code, preflight.text) == (400, "Disallowed CORS method")
