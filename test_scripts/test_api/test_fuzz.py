"""Every operation of the app's own OpenAPI schema, fuzzed by schemathesis against the real server.

Each operation gets `COVREF_FUZZ_EXAMPLES` generated requests (schema-valid ones, and
schema-violating ones), from the seed `COVREF_FUZZ_SEED`, sent over HTTP to the threaded test
server with the bearer token (schemathesis also sends writes without it). Each response must:
not be a 5xx; have a status code, content type, headers and body that the schema documents; be
a 2xx/404 for a valid request and a 4xx for an invalid one. `./test_runner.py fuzz` runs this
module with larger numbers; the suite runs it small, with a fixed seed, so it is the same run
every time.

The schema cannot say everything the app checks. Some rules depend on data (which currencies
exist, which assets) or on the clock (no future dates), and some span fields (start before end,
no key twice in one bulk upsert). For a schema-valid request we bend what was generated to follow
those rules (see `follow_data_rules`), so that valid requests get past validation and reach the
services and the database; the invalid requests are sent as generated.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from datetime import date
from typing import Any

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.models import AssetKind, Currency
from app.schemas.common import utc_today
from test_scripts.factories import API_TOKEN, make_asset, make_ecb_day, make_prices

SEED_VARIABLE = "COVREF_FUZZ_SEED"
EXAMPLES_VARIABLE = "COVREF_FUZZ_EXAMPLES"
# When set, the file where we write how many requests each operation got, by status code
# (`./test_runner.py fuzz` prints the totals); pytest-xdist workers each write their own.
REPORT_VARIABLE = "COVREF_FUZZ_REPORT"
DEFAULT_SEED = 20261121
# Per operation, besides schemathesis's own boundary values and unexpected methods: about 1,100
# requests in all, which keeps the module well under a minute on SQLite.
DEFAULT_EXAMPLES = 25
# A sync is a real provider read and writes what it reads (the ECB history has 221,702 rates): a
# fuzzed sync covers at most this many days.
SYNC_DAYS = 7
CURRENCY_FIELDS = ("base", "quote", "from", "to", "currency")


def _int_from_env(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value else default


FUZZ_SEED = _int_from_env(SEED_VARIABLE, DEFAULT_SEED)
FUZZ_EXAMPLES = _int_from_env(EXAMPLES_VARIABLE, DEFAULT_EXAMPLES)

# The schema is the app's own; no settings of the test database are needed to produce it.
OPENAPI = create_app(Settings(_env_file=None, environment="test", api_token=API_TOKEN)).openapi()
schema = schemathesis.openapi.from_dict(
    OPENAPI,
    config=SchemathesisConfig.from_dict(
        {
            "seed": FUZZ_SEED,
            "generation": {"mode": "all", "max-examples": FUZZ_EXAMPLES, "database": "none"},
            "auth": {"openapi": {"HTTPBearer": {"bearer": API_TOKEN}}},
            # Every sync reads the whole ECB file, whatever its dates: a fifth of the examples.
            "operations": [
                {
                    "include-path": "/api/v1/fx/sync",
                    "generation": {"mode": "all", "max-examples": max(5, FUZZ_EXAMPLES // 5), "database": "none"},
                }
            ],
        }
    ),
)


class KnownData:
    """What the database holds during one operation's fuzzing, for `follow_data_rules`."""

    currencies: tuple[str, ...] = ()
    asset_ids: tuple[int, ...] = ()


KNOWN = KnownData()
SENT: Counter[tuple[str, int]] = Counter()


@schema.hook
def after_call(context: schemathesis.HookContext, case: schemathesis.Case, response: schemathesis.Response) -> None:
    """Count every request, the checks' own (the same request without the token, say) included."""
    SENT[case.operation.label, response.status_code] += 1


@pytest.fixture(scope="module", autouse=True)
def _report_requests() -> Iterator[None]:
    """Write what was sent (operation, status: requests) where REPORT_VARIABLE says, if it does."""
    SENT.clear()
    yield
    target = os.environ.get(REPORT_VARIABLE)
    if not target:
        return
    path = Path(target)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        path = path.with_name(f"{path.stem}-{worker}{path.suffix}")
    report: dict[str, dict[str, int]] = {}
    for (operation, status), count in sorted(SENT.items()):
        report.setdefault(operation, {})[str(status)] = count
    path.write_text(json.dumps(report, indent=1))


@pytest.fixture
async def fuzz_data(session: AsyncSession) -> AsyncIterator[None]:
    """A clean database with one ECB day, a stock with prices and some cash, for every operation."""
    await make_ecb_day(session)
    stock = await make_asset(session)
    cash = await make_asset(session, name="Savings", kind=AssetKind.cash, currency="EUR", quantity="2500.50")
    await make_prices(session, stock, {"2026-10-29": "101.5", "2026-10-30": "102"})
    KNOWN.currencies = tuple(await session.scalars(select(Currency.code).order_by(Currency.code)))
    KNOWN.asset_ids = (stock.id, cash.id)
    yield
    KNOWN.currencies, KNOWN.asset_ids = (), ()


def _pick(options: tuple[Any, ...], key: object) -> Any:
    """One of `options`, chosen by `key`: the same generated value always maps to the same one."""
    return options[sum(map(ord, str(key))) % len(options)]


def _past(value: object) -> object:
    """An ISO date in the future becomes today; anything else is left alone."""
    if isinstance(value, str):
        try:
            if date.fromisoformat(value) > utc_today():
                return utc_today().isoformat()
        except ValueError:
            pass
    return value


def _ordered(container: dict[str, Any], *, days: int | None = None) -> None:
    """`start` on or before `end`, and at most `days` apart when given."""
    start, end = container.get("start"), container.get("end")
    if isinstance(start, str) and isinstance(end, str) and start > end:
        container["start"], container["end"] = end, start
    if days is not None:
        end = container.get("end") or utc_today().isoformat()
        earliest = date.fromordinal(max(1, date.fromisoformat(end).toordinal() - days)).isoformat()
        container["end"] = end
        container["start"] = max(container.get("start") or earliest, earliest)


def _follow_in(container: dict[str, Any]) -> None:
    for name, value in container.items():
        if name in CURRENCY_FIELDS and isinstance(value, str):
            container[name] = _pick(KNOWN.currencies, value)
        elif name in ("date", "start", "end"):
            container[name] = _past(value)
        elif name == "name" and isinstance(value, str):
            printable = "".join(ch for ch in value if ch.isprintable())
            container[name] = printable if printable.strip() else "fuzzed asset"


def follow_data_rules(case: schemathesis.Case) -> None:
    """Make a schema-valid request follow the rules the schema cannot state (see the docstring)."""
    if case.path_parameters and "asset_id" in case.path_parameters:
        # Half of them name an asset that exists, so the routes behind the 404 are fuzzed too.
        generated = case.path_parameters["asset_id"]
        if isinstance(generated, int) and generated % 2 == 0:
            case.path_parameters["asset_id"] = _pick(KNOWN.asset_ids, generated)
    if case.query:
        _follow_in(case.query)
        _ordered(case.query)
    body = case.body
    if not isinstance(body, dict):
        return
    _follow_in(body)
    if case.operation.path == "/api/v1/fx/sync":
        _ordered(body, days=SYNC_DAYS)
    for key, unique in (("rates", lambda row: (row["base"], row["quote"], row["date"])), ("prices", lambda row: row["date"])):
        if isinstance(body.get(key), list):
            rows, seen = [], set()
            for row in body[key]:
                _follow_in(row)
                if key == "rates" and row["base"] == row["quote"]:
                    others = tuple(code for code in KNOWN.currencies if code != row["base"])
                    row["quote"] = _pick(others, row["quote"])
                if unique(row) not in seen:
                    seen.add(unique(row))
                    rows.append(row)
            body[key] = rows


@pytest.mark.usefixtures("fuzz_data")
@schema.parametrize()
def test_operation_conforms_to_schema(case: schemathesis.Case, server_url: str) -> None:
    if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
        follow_data_rules(case)
    case.call_and_validate(base_url=server_url)
