"""/health, and the OpenAPI docs the service serves."""

from __future__ import annotations

import socket

import httpx
import pytest
from asgi_lifespan import LifespanManager

from app import __version__
from app.core.config import Settings
from app.main import create_app
from test_scripts.test_server_helper import in_process_client, running_server


async def test_health_reports_database_and_version(client: httpx.AsyncClient, test_settings: Settings) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "database": {"reachable": True, "kind": test_settings.database_kind}, "version": __version__,
    }  # fmt: skip


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_health_without_database_is_503_without_secrets() -> None:
    settings = Settings(
        _env_file=None, environment="test", api_token="x",
        database_url=f"postgresql+asyncpg://alice:s3cret@127.0.0.1:{closed_port()}/nowhere",
    )  # fmt: skip
    with running_server(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            response = await client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": {"reachable": False, "kind": "postgresql"}, "version": __version__}
    assert "s3cret" not in response.text


async def test_docs_and_openapi_are_served(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    schema = await client.get("/openapi.json")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
    assert set(schema.json()["paths"]) == {
        "/api/v1/fx/currencies", "/api/v1/fx/rates", "/api/v1/fx/rates/latest", "/api/v1/fx/convert",
        "/api/v1/fx/sync", "/api/v1/assets", "/api/v1/assets/{asset_id}", "/api/v1/assets/{asset_id}/prices",
        "/api/v1/assets/{asset_id}/valuation", "/api/v1/portfolio/valuation", "/health",
    }  # fmt: skip


async def test_an_app_runs_one_lifespan_at_a_time_and_can_start_again_after(test_settings: Settings) -> None:
    # Two servers on one app object would share `app.state.engine`: the second would replace the
    # engine the first one's requests use, and the first one's connections would be dropped unclosed.
    app = create_app(test_settings)
    with running_server(app) as url:
        with pytest.raises(RuntimeError, match=r"^this app is already running \(its lifespan has started"):
            async with LifespanManager(app):
                pass
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/health")).status_code == 200  # the first server was left alone
    assert (app.state.engine, app.state.sessionmaker) == (None, None)
    async with in_process_client(app) as client:
        assert (await client.get("/health")).status_code == 200
