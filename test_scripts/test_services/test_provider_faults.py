"""The ECB provider fails mid-sync: fx.sync reports it and writes nothing from that payload.

test_providers.py checks how EcbHttpProvider reads each bad answer (through a mock transport),
and test_fx_api.py that the API answers 502 on an empty database. Here the whole path runs: the
provider talks real HTTP to the fake ECB server (test_scripts/fake_provider.py), and the database
(SQLite or PostgreSQL, by --db) already holds rates for the very keys the payload carries. After a
failure those rows must be exactly as they were, and the next good sync must work.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FxRate
from app.services import fx
from app.services.errors import ProviderFailed
from app.services.providers import EcbHttpProvider
from test_scripts.factories import make_rates
from test_scripts.fake_provider import ECB_HISTORY_PATH, SAMPLE_XML, FakeProvider, Mode

TIMEOUT_S = 0.3
RETRIES = 1
# What the database holds before each sync: the sample's keys, with values it does not carry.
EXISTING = [
    ("EUR", "USD", "2026-10-30", "2.5"), ("EUR", "JPY", "2026-10-26", "99.5"), ("EUR", "CHF", "2026-10-28", "0.5"),
]  # fmt: skip
# The sample document with its very last rate (ZAR on the oldest day) made invalid: all the
# 144 rates before it parse.
LAST_RATE = b'<Cube currency="ZAR" rate="18.6046"/>\n\t\t</Cube>\n\t</Cube>'
BAD_LAST_RATE = SAMPLE_XML.replace(LAST_RATE, LAST_RATE.replace(b'"18.6046"', b'"-18.6046"'))


@pytest.fixture
def provider(fake_provider_server: tuple[str, FakeProvider], fake_provider: FakeProvider) -> Iterator[EcbHttpProvider]:
    """An ECB HTTP provider of the fake server, quick to give up; the server's body restored after."""
    url, _ = fake_provider_server
    yield EcbHttpProvider(f"{url}{ECB_HISTORY_PATH}", timeout_s=TIMEOUT_S, retries=RETRIES, backoff_s=0.0)
    fake_provider.body = SAMPLE_XML


async def snapshot(session: AsyncSession) -> list[tuple[str, str, date, Decimal, str, object]]:
    """Every stored rate with its source and timestamp: any write would change one of them."""
    rows = await session.execute(
        select(FxRate.base, FxRate.quote, FxRate.rate_date, FxRate.rate, FxRate.source, FxRate.updated_at)
        .order_by(FxRate.rate_date, FxRate.quote)
    )  # fmt: skip
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def sync(session: AsyncSession, provider: EcbHttpProvider) -> None:
    await fx.sync(session=session, provider=provider, start=None, end=None)


@pytest.mark.parametrize(
    ("mode", "problem"),
    [
        (Mode.HTTP_500, "answered HTTP 500 Internal Server Error after 2 attempts"),
        (Mode.GARBAGE, "payload is not well-formed XML at line 1, column 1: not well-formed (invalid token)"),
        (Mode.TRUNCATED, "payload is not well-formed XML (truncated?) at line 81, column 4: unclosed token"),
        (Mode.WRONG_XML, "payload is not ECB XML: no <Cube time=...> elements in namespace "
                         "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"),
        (Mode.SLOW, "ReadTimeout (no detail) after 2 attempts"),
    ],
)
async def test_failing_provider_is_reported_and_leaves_stored_rates_as_they_were(
    session: AsyncSession, provider: EcbHttpProvider, fake_provider: FakeProvider, mode: Mode, problem: str
) -> None:
    await make_rates(session, EXISTING)
    before = await snapshot(session)
    fake_provider.mode = mode

    with pytest.raises(ProviderFailed) as excinfo:
        await sync(session, provider)

    assert str(excinfo.value) == f"ecb_http: {provider.source}: {problem}"
    await session.rollback()  # read what is committed, not this session's view
    assert await snapshot(session) == before


async def test_slow_provider_gives_up_within_its_timeouts(
    session: AsyncSession, provider: EcbHttpProvider, fake_provider: FakeProvider
) -> None:
    fake_provider.mode = Mode.SLOW
    started = time.monotonic()
    with pytest.raises(ProviderFailed):
        await sync(session, provider)
    # Two attempts of TIMEOUT_S each, no backoff: far below the fake's 30 s answer.
    assert time.monotonic() - started < (RETRIES + 1) * TIMEOUT_S + 2.0
    assert fake_provider.requests == RETRIES + 1


async def test_document_bad_only_in_its_last_rate_writes_none_of_the_good_ones(
    session: AsyncSession, provider: EcbHttpProvider, fake_provider: FakeProvider
) -> None:
    assert BAD_LAST_RATE != SAMPLE_XML, "the sample no longer ends with the rate this test breaks"
    await make_rates(session, EXISTING)
    before = await snapshot(session)
    fake_provider.body = BAD_LAST_RATE

    with pytest.raises(ProviderFailed, match=r"2026-10-26: rate for ZAR is '-18\.6046', not a positive number$"):
        await sync(session, provider)

    await session.rollback()
    assert await snapshot(session) == before


async def test_sync_after_a_failed_one_writes_the_whole_payload(
    session: AsyncSession, provider: EcbHttpProvider, fake_provider: FakeProvider
) -> None:
    await make_rates(session, EXISTING)
    fake_provider.mode = Mode.TRUNCATED
    with pytest.raises(ProviderFailed):
        await sync(session, provider)

    fake_provider.mode = Mode.OK
    result = await fx.sync(session=session, provider=provider, start=None, end=None)

    # 145 rates in the sample: the three stored ones are updated to the ECB's values.
    assert (result.fetched, result.inserted, result.updated, result.skipped) == (145, 142, 3, 0)
    usd = await session.scalar(
        select(FxRate.rate).where(FxRate.quote == "USD", FxRate.rate_date == date(2026, 10, 30))
    )
    assert usd == Decimal("1.1172")
