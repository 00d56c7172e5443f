"""More tests for backend/app/services/fx.py: behaviour that `./test_runner.py mutate` found unasserted.

Each test pins something a caller or an operator relies on, which a mutant of fx.py changed
while every test in test_fx_service.py still passed: the digits of a stored rate, the count of
updated rows, the time a write is stamped with, the progress of a sync, the log lines. Expected
values are written out by hand, not computed with the code under test.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FxRate
from app.schemas.fx import ConversionLeg, LatestRates, SyncResult, UpsertResult
from app.services import fx
from app.services.fx import FxPolicy
from test_scripts.factories import ECB_DAY, make_rates
from test_scripts.test_services.test_fx_service import EUR_PIVOT, StubProvider, convert, quote

WRITE_TIME = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
OLD_TIME = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
# 13 significant digits: one more than derived rates are shown with.
LONG_RATE = "123.4567890123"


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """The service's clock, stopped at WRITE_TIME."""
    monkeypatch.setattr(fx, "utcnow", lambda: WRITE_TIME)
    return WRITE_TIME


@pytest.fixture
def fx_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The service's log records from INFO up (the root logger's WARNING would hide its INFO lines)."""
    caplog.set_level(logging.INFO, logger=fx.logger.name)
    return caplog


async def updated_at_by_key(session: AsyncSession) -> dict[tuple[str, str], datetime]:
    rows = await session.execute(select(FxRate.base, FxRate.quote, FxRate.updated_at))
    return {(base, quote_): updated_at for base, quote_, updated_at in rows}


# --- a direct rate is the stored rate, to the last digit ----------------------------------------


async def test_convert_direct_shows_the_stored_rate_with_every_digit(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, LONG_RATE)])
    conversion = await convert(session, "2", "EUR", "USD")
    # A derived rate would be rounded to 12 digits (123.456789012); a stored one is shown as stored.
    assert (conversion.path, conversion.rate) == ("direct", Decimal(LONG_RATE))
    assert conversion.legs == [ConversionLeg(base="EUR", quote="USD", date=ECB_DAY, rate=Decimal(LONG_RATE), inverted=False)]
    assert conversion.result == Decimal("246.91")


async def test_latest_rates_direct_rate_keeps_every_digit(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, LONG_RATE)])
    latest = await fx.latest_rates(session=session, base="EUR", on=ECB_DAY, policy=EUR_PIVOT)
    assert latest == LatestRates(base="EUR", date=ECB_DAY, rates={"USD": Decimal(LONG_RATE)})


# --- money with more digits than decimal's default context; the first days of the calendar ------


def test_round_money_keeps_every_digit_of_large_amounts() -> None:
    # 38 significant digits once rounded to cents: more than decimal's default 28.
    amount = Decimal("121932631137021795226184965581771675.0370523389715928")
    assert fx.round_money(amount, 2) == Decimal("121932631137021795226184965581771675.04")


async def test_convert_near_the_start_of_the_calendar_finds_a_rate_on_its_first_day(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", date(1, 1, 1), "1.5")])
    week = FxPolicy(pivot="EUR", max_staleness_days=7)
    conversion = await convert(session, "2", "EUR", "USD", on=date(1, 1, 3), policy=week)
    assert (conversion.rate_date, conversion.stale_days, conversion.result) == (date(1, 1, 1), 2, Decimal("3.00"))


# --- write_rates: counts, timestamps, log --------------------------------------------------------


async def test_write_rates_counts_every_updated_rate(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1"), ("EUR", "JPY", ECB_DAY, "175"),
                               ("EUR", "GBP", ECB_DAY, "0.8")])  # fmt: skip
    result = await fx.write_rates(session=session, source="svc", quotes=[
        quote("EUR", "USD", ECB_DAY, "1.1172"), quote("EUR", "JPY", ECB_DAY, "175.68"),
        quote("EUR", "GBP", ECB_DAY, "0.8338"), quote("EUR", "CHF", ECB_DAY, "0.9194"),
    ])  # fmt: skip
    assert result == UpsertResult(inserted=1, updated=3, skipped=0)


async def test_write_rates_stamps_new_and_changed_rates_with_the_write_time(
    session: AsyncSession, frozen_now: datetime
) -> None:
    old = await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1"), ("EUR", "JPY", ECB_DAY, "175.68")])
    for rate in old:
        rate.updated_at = OLD_TIME
    await session.commit()
    await fx.upsert_rates(session=session, source="svc", quotes=[
        quote("EUR", "USD", ECB_DAY, "1.1172"),  # changed
        quote("EUR", "JPY", ECB_DAY, "175.68"),  # equal: not written, keeps its time
        quote("EUR", "GBP", ECB_DAY, "0.8338"),  # new
    ])  # fmt: skip
    session.expire_all()
    assert await updated_at_by_key(session) == {
        ("EUR", "USD"): frozen_now, ("EUR", "JPY"): OLD_TIME, ("EUR", "GBP"): frozen_now,
    }  # fmt: skip


async def test_write_rates_logs_what_it_wrote(session: AsyncSession, fx_log: pytest.LogCaptureFixture) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1"), ("EUR", "JPY", ECB_DAY, "175.68")])
    await fx.write_rates(session=session, source="svc", quotes=[
        quote("EUR", "USD", ECB_DAY, "1.1172"), quote("EUR", "JPY", ECB_DAY, "175.68"),
        quote("EUR", "GBP", ECB_DAY, "0.8338"), quote("EUR", "CHF", ECB_DAY, "0.9194"),
    ])  # fmt: skip
    assert [(r.levelname, r.getMessage()) for r in fx_log.records] == [
        ("INFO", "upserted 3 rates from svc: 2 new, 1 changed")
    ]


# --- sync: progress and the unknown-currency warning --------------------------------------------


async def test_sync_reports_progress_of_the_write(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fx, "_WRITE_CHUNK", 2)
    provider = StubProvider([quote("EUR", code, ECB_DAY, "2") for code in ("USD", "JPY", "GBP")])
    calls: list[tuple[int, int]] = []
    result = await fx.sync(
        session=session, provider=provider, start=None, end=None, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(2, 3), (3, 3)]
    assert result == SyncResult(provider="stub", fetched=3, inserted=3, updated=0, skipped=0, unknown_currencies=[])


async def test_sync_warns_naming_provider_and_unknown_currencies(
    session: AsyncSession, fx_log: pytest.LogCaptureFixture
) -> None:
    provider = StubProvider([quote("EUR", "USD", ECB_DAY, "1.1172"), quote("EUR", "XAU", ECB_DAY, "0.0004"),
                             quote("XBT", "USD", ECB_DAY, "70000")])  # fmt: skip
    await fx.sync(session=session, provider=provider, start=None, end=None)
    warnings = [(r.levelname, r.getMessage()) for r in fx_log.records if r.levelno >= logging.WARNING]
    assert warnings == [("WARNING", "stub: skipping rates for unknown currencies XAU, XBT")]
