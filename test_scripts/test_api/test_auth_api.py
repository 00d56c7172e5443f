"""Every write needs the bearer token; reads are open (backend/app/core/security.py)."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import ValidationError

from app.core.config import DEFAULT_API_TOKEN, Settings
from app.main import create_app
from test_scripts.factories import API_TOKEN

pytestmark = pytest.mark.usefixtures("clean_db")

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def write_routes() -> list[tuple[str, str]]:
    """(method, path) of every write the app exposes, with ids filled in."""
    # The OpenAPI schema is the public list of operations (FastAPI no longer flattens included
    # routers into app.routes).
    paths = create_app(Settings(_env_file=None, environment="test", api_token="x")).openapi()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, operations in paths.items()
        for method in operations
        if method.upper() in WRITE_METHODS
    ]


def test_app_exposes_the_expected_writes() -> None:
    # If a write is added, it must be added here too, so the tests below cover it knowingly.
    assert write_routes() == [
        ("POST", "/api/v1/fx/rates"), ("POST", "/api/v1/fx/sync"), ("POST", "/api/v1/assets"),
        ("PATCH", "/api/v1/assets/1"), ("DELETE", "/api/v1/assets/1"), ("POST", "/api/v1/assets/1/prices"),
    ]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), write_routes())
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "this endpoint writes data: send 'Authorization: Bearer <token>'"),
        ({"Authorization": "Bearer wrong-token"}, "the bearer token is not valid"),
        ({"Authorization": f"Bearer {API_TOKEN}x"}, "the bearer token is not valid"),
        ({"Authorization": f"Basic {API_TOKEN}"}, "the Authorization header must be 'Bearer <token>'"),
        ({"Authorization": "Bearer"}, "the Authorization header must be 'Bearer <token>'"),
        ({"Authorization": ""}, "the Authorization header must be 'Bearer <token>'"),
    ],
)
async def test_write_without_valid_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], message: str
) -> None:
    response = await client.request(method, path, headers=headers, json={})
    assert response.status_code == 401
    assert response.json() == {"detail": message}
    assert response.headers["www-authenticate"] == "Bearer"


async def test_read_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/fx/currencies")
    assert response.status_code == 200


async def test_token_with_non_ascii_characters_is_401_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/assets", headers={"Authorization": "Bearer t\u00e9st".encode()}, json={})
    assert response.status_code == 401


@pytest.mark.parametrize("environment", ["test", "production"])
def test_settings_refuse_default_token_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match=f"API_TOKEN must be set to a secret of your own when ENVIRONMENT={environment}"):
        Settings(_env_file=None, environment=environment, api_token=DEFAULT_API_TOKEN)


def test_settings_accept_default_token_in_development() -> None:
    assert Settings(_env_file=None, environment="development").api_token.get_secret_value() == DEFAULT_API_TOKEN
