"""A bounded load run on the read endpoints people call most: convert and valuation.

Clients send requests back to back over real HTTP to the threaded uvicorn server, whatever
`--transport` says, and every answer must be a 200 with exactly the body the same request gets
when the server is idle. The figures (requests per second, latency percentiles, errors) are
printed in a "load" section at the end of the run.

The default (1,000 requests from 20 clients) is small enough for every suite run. A longer run,
on demand (pytest's timeout of 120 s per test applies; raise it with `--timeout` if needed):

    COVREF_LOAD_REQUESTS=5000 COVREF_LOAD_CLIENTS=50 .venv/bin/python -m pytest test_scripts/test_api/test_load.py

The test server shares this process, and its CPU, with the clients; the figures describe this
harness on this machine, not what the app does under a production server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AssetKind
from test_scripts.factories import ECB_DAY, make_asset, make_ecb_day, make_prices
from test_scripts.load import LoadResult, RequestSpec, format_result, run_load

pytestmark = pytest.mark.usefixtures("clean_db")

REQUESTS_VARIABLE, DEFAULT_REQUESTS = "COVREF_LOAD_REQUESTS", 1_000
CLIENTS_VARIABLE, DEFAULT_CLIENTS = "COVREF_LOAD_CLIENTS", 20
DAY = ECB_DAY.isoformat()


def _setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        pytest.fail(f"{name} must be a whole number of at least 1, got {raw!r}", pytrace=False)
    return int(raw)


class _LoadSummary:
    """A pytest plugin that prints the load figures in a section of their own after the tests."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.lines:
            terminalreporter.write_sep("=", "load")
            for line in self.lines:
                terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def load_summary(pytestconfig: pytest.Config) -> Iterator[list[str]]:
    """Lines to print at the end of the run (under pytest-xdist, only `-s` shows them: each worker
    has its own terminal summary, which nobody sees)."""
    summary = _LoadSummary()
    pytestconfig.pluginmanager.register(summary, "covref-load-summary")
    yield summary.lines


async def make_portfolio(session: AsyncSession) -> list[int]:
    """Four rates of two ECB days and eight assets in five currencies; the ids of the priced ones."""
    for day in (ECB_DAY.replace(day=29), ECB_DAY):
        await make_ecb_day(session, day)
    priced = []
    for n, currency in enumerate(("USD", "JPY", "GBP", "CHF", "USD", "GBP")):
        asset = await make_asset(session, name=f"Stock {n}", currency=currency, quantity=Decimal(n + 1))
        await make_prices(session, asset, {"2026-10-29": f"{100 + n}.25", "2026-10-30": f"{101 + n}.5"})
        priced.append(asset.id)
    await make_asset(session, name="Wallet", kind=AssetKind.cash, currency="EUR", quantity=Decimal("1000.10"))
    await make_asset(session, name="Unpriced", kind=AssetKind.bond, currency="EUR")
    return priced


def convert(amount: str, src: str, dst: str) -> RequestSpec:
    return RequestSpec("GET", "/api/v1/fx/convert", params={"amount": amount, "from": src, "to": dst, "date": DAY})


async def test_convert_and_valuation_under_load(
    server_url: str, session: AsyncSession, load_summary: list[str], request: pytest.FixtureRequest
) -> None:
    total, clients = _setting(REQUESTS_VARIABLE, DEFAULT_REQUESTS), _setting(CLIENTS_VARIABLE, DEFAULT_CLIENTS)
    priced = await make_portfolio(session)
    specs = [
        convert("100", "USD", "JPY"),  # cross through EUR
        convert("250.75", "EUR", "GBP"),  # direct
        convert("1000", "CHF", "EUR"),  # inverse
        RequestSpec("GET", "/api/v1/portfolio/valuation", params={"currency": "USD", "date": DAY}),
        RequestSpec("GET", f"/api/v1/assets/{priced[1]}/valuation", params={"currency": "EUR", "date": DAY}),
    ]
    # What each request answers on an idle server is what it must answer under load.
    async with httpx.AsyncClient(base_url=server_url) as client:
        idle = [await client.get(spec.path, params=spec.params) for spec in specs]
    assert [r.status_code for r in idle] == [200] * len(specs), [r.text for r in idle]
    assert len(idle[3].json()["assets"]) == 7  # every asset but the unpriced bond is valued
    checked = [
        RequestSpec(s.method, s.path, params=s.params, expect_json=r.json()) for s, r in zip(specs, idle, strict=True)
    ]

    result: LoadResult = await run_load(server_url, checked, concurrency=clients, total=total)

    database = request.config.getoption("--db")
    load_summary.append(format_result(result, label=f"convert + valuation ({database}, threaded uvicorn)"))
    assert result.count == total
    assert result.server_errors == 0
    assert result.errors == {}, format_result(result, label="convert + valuation")
