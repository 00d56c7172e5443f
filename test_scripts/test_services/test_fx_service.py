"""Tests for backend/app/services/fx.py: conversion, latest rates, writing rates and provider sync.

The HTTP behaviour is covered in test_scripts/test_api/test_fx_api.py; here we call the service
directly, which reaches what the API cannot: another pivot, the write chunking, a provider of our
own. Expected values were worked out with Python's decimal module at 100 digits, not with the code
under test.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import FxRate
from app.schemas.fx import Conversion, ConversionLeg, LatestRates, SyncResult, UpsertResult
from app.services import fx
from app.services.errors import NoRates, ProviderFailed, RateNotFound, UnknownCurrency
from app.services.fx import FxPolicy
from app.services.providers import ProviderError, RateQuote
from test_scripts.factories import ECB_DAY, make_ecb_day, make_rates

EUR_PIVOT = FxPolicy(pivot="EUR", max_staleness_days=7)
USD_PIVOT = FxPolicy(pivot="USD", max_staleness_days=7)


def quote(base: str, quote: str, on: date | str, rate: str) -> RateQuote:
    """A RateQuote, written the short way."""
    day = date.fromisoformat(on) if isinstance(on, str) else on
    return RateQuote(base=base, quote=quote, on=day, rate=Decimal(rate))


def leg(base: str, quote: str, on: date, rate: str, *, inverted: bool) -> ConversionLeg:
    return ConversionLeg(base=base, quote=quote, date=on, rate=Decimal(rate), inverted=inverted)


async def convert(session: AsyncSession, amount: str, from_currency: str, to_currency: str, *,
                  on: date = ECB_DAY, policy: FxPolicy = EUR_PIVOT) -> Conversion:  # fmt: skip
    """fx.convert with the EUR pivot and the ECB day unless a test says otherwise."""
    return await fx.convert(session=session, amount=Decimal(amount), from_currency=from_currency,
                            to_currency=to_currency, on=on, policy=policy)  # fmt: skip


async def count_rates(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(FxRate)) or 0


async def stored_rates(session: AsyncSession) -> list[tuple[str, str, date, Decimal, str]]:
    """Every stored rate as (base, quote, date, rate, source), in key order."""
    rows = await session.execute(
        select(FxRate.base, FxRate.quote, FxRate.rate_date, FxRate.rate, FxRate.source).order_by(
            FxRate.rate_date, FxRate.base, FxRate.quote
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


class StubProvider:
    """A provider that hands back the quotes it was given (or raises), recording each fetch."""

    name = "stub"

    def __init__(self, quotes: list[RateQuote] | None = None, *, error: ProviderError | None = None) -> None:
        self.quotes = quotes or []
        self.error = error
        self.calls: list[tuple[date | None, date | None]] = []

    async def fetch(self, *, start: date | None = None, end: date | None = None) -> list[RateQuote]:
        self.calls.append((start, end))
        if self.error is not None:
            raise self.error
        return list(self.quotes)


# --- convert: paths and legs ------------------------------------------------------------------


async def test_convert_direct_uses_stored_rate_as_single_leg(session: AsyncSession) -> None:
    await make_ecb_day(session)
    assert await convert(session, "100", "EUR", "USD") == Conversion(
        amount=Decimal("100"), from_currency="EUR", to_currency="USD", requested_date=ECB_DAY, rate_date=ECB_DAY,
        stale_days=0, path="direct", rate=Decimal("1.1172"), result=Decimal("111.72"),
        legs=[leg("EUR", "USD", ECB_DAY, "1.1172", inverted=False)],
    )  # fmt: skip


async def test_convert_into_pivot_inverts_the_opposite_rate(session: AsyncSession) -> None:
    await make_ecb_day(session)
    # 100 / 1.1172 = 89.5094880057...; the rate is shown to 12 significant digits.
    assert await convert(session, "100", "USD", "EUR") == Conversion(
        amount=Decimal("100"), from_currency="USD", to_currency="EUR", requested_date=ECB_DAY, rate_date=ECB_DAY,
        stale_days=0, path="inverse", rate=Decimal("0.895094880057"), result=Decimal("89.51"),
        legs=[leg("EUR", "USD", ECB_DAY, "1.1172", inverted=True)],
    )  # fmt: skip


async def test_convert_cross_goes_through_pivot_with_two_legs(session: AsyncSession) -> None:
    await make_ecb_day(session)
    # 50 / 0.8338 * 0.9194 = 55.1331254497...
    conversion = await convert(session, "50", "GBP", "CHF")
    assert (conversion.path, conversion.rate, conversion.result) == (
        "cross", Decimal("1.10266250899"), Decimal("55.13")
    )  # fmt: skip
    assert conversion.legs == [
        leg("EUR", "GBP", ECB_DAY, "0.8338", inverted=True),
        leg("EUR", "CHF", ECB_DAY, "0.9194", inverted=False),
    ]


async def test_convert_cross_with_legs_stored_towards_pivot_flags_second_leg_inverted(session: AsyncSession) -> None:
    # Both legs stored as X->EUR: the first is used as stored, the second (EUR->JPY) is inverted.
    await make_rates(session, [("USD", "EUR", ECB_DAY, "0.8951"), ("JPY", "EUR", ECB_DAY, "0.005692")])
    # 250 * 0.8951 / 0.005692 = 39313.949...
    conversion = await convert(session, "250", "USD", "JPY")
    assert (conversion.path, conversion.rate, conversion.result) == (
        "cross", Decimal("157.255797611"), Decimal("39314")
    )  # fmt: skip
    assert conversion.legs == [
        leg("USD", "EUR", ECB_DAY, "0.8951", inverted=False),
        leg("JPY", "EUR", ECB_DAY, "0.005692", inverted=True),
    ]


async def test_convert_into_pivot_without_pair_rate_raises_rate_not_found(session: AsyncSession) -> None:
    # A cross through the pivot makes no sense when the pivot is one end: USD rates do not help.
    await make_rates(session, [("GBP", "USD", ECB_DAY, "1.3399"), ("EUR", "USD", ECB_DAY, "1.1172")])
    with pytest.raises(RateNotFound):
        await convert(session, "1", "GBP", "EUR")


async def test_convert_with_usd_pivot_crosses_through_usd(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1172"), ("GBP", "USD", ECB_DAY, "1.3399")])
    # 100 * 1.1172 / 1.3399 = 83.3793566684...
    conversion = await convert(session, "100", "EUR", "GBP", policy=USD_PIVOT)
    assert (conversion.path, conversion.rate, conversion.result) == (
        "cross", Decimal("0.833793566684"), Decimal("83.38")
    )  # fmt: skip
    assert conversion.legs == [
        leg("EUR", "USD", ECB_DAY, "1.1172", inverted=False),
        leg("GBP", "USD", ECB_DAY, "1.3399", inverted=True),
    ]


# --- convert: which day ---------------------------------------------------------------------


async def test_convert_newest_day_cross_wins_over_older_direct_rate(session: AsyncSession) -> None:
    await make_rates(session, [("USD", "GBP", "2026-10-28", "0.75")])
    await make_ecb_day(session)
    # 100 / 1.1172 * 0.8338 = 74.6330110992..., not 75.00 from the older direct rate.
    conversion = await convert(session, "100", "USD", "GBP")
    assert (conversion.path, conversion.rate_date, conversion.result) == ("cross", ECB_DAY, Decimal("74.63"))


async def test_convert_finds_rate_exactly_max_staleness_days_back(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-23", "1.1172")])
    conversion = await convert(session, "1", "EUR", "USD", on=date(2026, 10, 30))
    assert (conversion.rate_date, conversion.stale_days, conversion.result) == (date(2026, 10, 23), 7, Decimal("1.12"))


async def test_convert_one_day_beyond_staleness_window_raises_rate_not_found(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-23", "1.1172")])
    with pytest.raises(RateNotFound) as caught:
        await convert(session, "1", "EUR", "USD", on=date(2026, 10, 31))
    assert (caught.value.from_currency, caught.value.to_currency, caught.value.on) == ("EUR", "USD", date(2026, 10, 31))
    assert str(caught.value) == (
        "no EUR->USD rate on 2026-10-31 or in the 7 days before it (direct, inverse or through EUR)"
    )


async def test_convert_skips_day_with_one_cross_leg_for_older_day_with_both(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-30", "1.2")])
    await make_ecb_day(session, date(2026, 10, 29))
    # From the 29th: 100 / 1.1172 * 0.8338 = 74.63; the 30th has no EUR->GBP leg.
    conversion = await convert(session, "100", "USD", "GBP")
    assert (conversion.rate_date, conversion.stale_days, conversion.result) == (date(2026, 10, 29), 1, Decimal("74.63"))
    assert conversion.legs == [
        leg("EUR", "USD", date(2026, 10, 29), "1.1172", inverted=True),
        leg("EUR", "GBP", date(2026, 10, 29), "0.8338", inverted=False),
    ]


# --- convert: identity, rounding, exactness -----------------------------------------------------


async def test_convert_same_currency_rounds_to_minor_units_without_rates(session: AsyncSession) -> None:
    conversion = await convert(session, "1.2345", "BHD", "BHD")
    assert conversion == Conversion(
        amount=Decimal("1.2345"), from_currency="BHD", to_currency="BHD", requested_date=ECB_DAY, rate_date=ECB_DAY,
        stale_days=0, path="identity", rate=Decimal(1), result=Decimal("1.234"), legs=[],
    )  # fmt: skip
    assert str(conversion.result) == "1.234"


@pytest.mark.parametrize(
    ("to", "rate", "amount", "expected"),
    [
        ("JPY", "2.5", "1", "2"),  # 2.5 -> 2
        ("JPY", "2.5", "1.4", "4"),  # 3.5 -> 4
        ("USD", "1.25", "0.1", "0.12"),  # 0.125 -> 0.12
        ("USD", "1.25", "0.3", "0.38"),  # 0.375 -> 0.38
        ("BHD", "0.5", "0.001", "0.000"),  # 0.0005 -> 0.000
        ("BHD", "0.5", "0.003", "0.002"),  # 0.0015 -> 0.002
        ("CLF", "0.04", "0.00125", "0.0000"),  # 0.00005 -> 0.0000
        ("CLF", "0.04", "0.00375", "0.0002"),  # 0.00015 -> 0.0002
    ],
)
async def test_convert_rounds_half_even_to_target_minor_units(
    session: AsyncSession, to: str, rate: str, amount: str, expected: str
) -> None:
    await make_rates(session, [("EUR", to, ECB_DAY, rate)])
    assert str((await convert(session, amount, "EUR", to)).result) == expected


async def test_convert_result_is_decimal_with_target_exponent(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.2")])
    result = (await convert(session, "10", "EUR", "USD")).result
    assert type(result) is Decimal
    assert result.as_tuple() == Decimal("12.00").as_tuple()  # (0, (1, 2, 0, 0), -2): not 12 nor 12.0


async def test_convert_inverse_rounds_exact_half_of_quotient_half_even(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "RON", ECB_DAY, "4.9768")])
    # 0.174188 / 4.9768 = 0.035 exactly, which rounds half-even to 0.04.
    assert (await convert(session, "0.174188", "RON", "EUR")).result == Decimal("0.04")


@pytest.mark.parametrize(
    ("from_currency", "to_currency", "field", "code"),
    [("XYZ", "USD", "from", "XYZ"), ("EUR", "XYZ", "to", "XYZ"), ("ABC", "XYZ", "from", "ABC")],
)
async def test_convert_unknown_currency_names_field(
    session: AsyncSession, from_currency: str, to_currency: str, field: str, code: str
) -> None:
    with pytest.raises(UnknownCurrency) as caught:
        await convert(session, "1", from_currency, to_currency)
    assert (caught.value.code, caught.value.field, caught.value.location) == (code, field, "query")


@pytest.mark.parametrize(
    ("codes", "expected"),
    [({"a": "JPY"}, {"JPY": 0}), ({"a": "JPY", "b": "USD"}, {"JPY": 0, "USD": 2}),
     ({"a": "JPY", "b": "USD", "c": "KWD"}, {"JPY": 0, "USD": 2, "KWD": 3})],
)  # fmt: skip
async def test_minor_units_reads_one_two_or_three_codes(
    session: AsyncSession, codes: dict[str, str], expected: dict[str, int]
) -> None:
    assert await fx.minor_units(session=session, codes=codes) == expected


async def test_minor_units_names_the_same_code_twice_once(session: AsyncSession) -> None:
    assert await fx.minor_units(session=session, codes={"from": "USD", "to": "USD"}) == {"USD": 2}


async def test_minor_units_refuses_more_codes_than_its_statement_binds(session: AsyncSession) -> None:
    with pytest.raises(ValueError, match=r"^zip\(\) argument 2 is longer than argument 1$"):
        await fx.minor_units(session=session, codes={"a": "USD", "b": "EUR", "c": "JPY", "d": "CHF"})


# --- latest_rates -------------------------------------------------------------------------------


async def test_latest_rates_uses_newest_date_on_or_before_requested(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-28", "1.1"), ("EUR", "USD", "2026-10-30", "1.2"),
                               ("EUR", "USD", "2026-11-02", "1.3")])  # fmt: skip
    latest = await fx.latest_rates(session=session, base="EUR", on=date(2026, 10, 31), policy=EUR_PIVOT)
    assert latest == LatestRates(base="EUR", date=date(2026, 10, 30), rates={"USD": Decimal("1.2")})


async def test_latest_rates_derives_direct_and_cross_rates_for_non_pivot_base(session: AsyncSession) -> None:
    await make_rates(session, [("GBP", "EUR", ECB_DAY, "1.1993"), ("USD", "EUR", ECB_DAY, "0.8951"),
                               ("EUR", "JPY", ECB_DAY, "175.68"), ("GBP", "CHF", ECB_DAY, "1.1027")])  # fmt: skip
    latest = await fx.latest_rates(session=session, base="GBP", on=ECB_DAY, policy=EUR_PIVOT)
    # USD: 1.1993 / 0.8951 = 1.339850296..., JPY: 1.1993 * 175.68 = 210.693024.
    assert latest == LatestRates(base="GBP", date=ECB_DAY, rates={
        "CHF": Decimal("1.1027"), "EUR": Decimal("1.1993"),
        "JPY": Decimal("210.693024"), "USD": Decimal("1.33985029606"),
    })  # fmt: skip


async def test_latest_rates_without_rates_on_or_before_raises_no_rates(session: AsyncSession) -> None:
    await make_ecb_day(session)
    with pytest.raises(NoRates, match=r"^no rates from USD on or before 2026-10-29$") as caught:
        await fx.latest_rates(session=session, base="USD", on=date(2026, 10, 29), policy=EUR_PIVOT)
    assert (caught.value.base, caught.value.on) == ("USD", date(2026, 10, 29))


async def test_latest_rates_unknown_base_names_field(session: AsyncSession) -> None:
    with pytest.raises(UnknownCurrency) as caught:
        await fx.latest_rates(session=session, base="XYZ", on=ECB_DAY, policy=EUR_PIVOT)
    assert (caught.value.code, caught.value.field) == ("XYZ", "base")


async def test_latest_rates_skips_newer_day_without_rates_for_base(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", "2026-10-29", "1.2"), ("EUR", "GBP", "2026-10-30", "0.8338")])
    latest = await fx.latest_rates(session=session, base="USD", on=ECB_DAY, policy=EUR_PIVOT)
    assert latest == LatestRates(base="USD", date=date(2026, 10, 29), rates={"EUR": Decimal("0.833333333333")})


# --- write_rates and upsert_rates -------------------------------------------------------------


async def test_upsert_rates_counts_inserted_updated_skipped(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1172"), ("EUR", "JPY", ECB_DAY, "175")])
    result = await fx.upsert_rates(session=session, source="svc", quotes=[
        quote("EUR", "USD", ECB_DAY, "1.1172"),  # equal
        quote("EUR", "JPY", ECB_DAY, "175.68"),  # changed
        quote("EUR", "GBP", ECB_DAY, "0.8338"),  # new
    ])  # fmt: skip
    assert result == UpsertResult(inserted=1, updated=1, skipped=1)
    assert await stored_rates(session) == [
        ("EUR", "GBP", ECB_DAY, Decimal("0.8338"), "svc"),
        ("EUR", "JPY", ECB_DAY, Decimal("175.68"), "svc"),
        ("EUR", "USD", ECB_DAY, Decimal("1.1172"), "test"),
    ]


async def test_upsert_rates_skips_equal_value_written_with_other_scale(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1")])
    result = await fx.upsert_rates(session=session, quotes=[quote("EUR", "USD", ECB_DAY, "1.10")], source="svc")
    assert result == UpsertResult(inserted=0, updated=0, skipped=1)
    assert await stored_rates(session) == [("EUR", "USD", ECB_DAY, Decimal("1.1"), "test")]


async def test_upsert_rates_commits(session: AsyncSession) -> None:
    await fx.upsert_rates(session=session, quotes=[quote("EUR", "USD", ECB_DAY, "1.1172")], source="svc")
    await session.rollback()
    assert await count_rates(session) == 1


async def test_write_rates_leaves_commit_to_caller(session: AsyncSession) -> None:
    await fx.write_rates(session=session, quotes=[quote("EUR", "USD", ECB_DAY, "1.1172")], source="svc")
    await session.rollback()
    assert await count_rates(session) == 0


async def test_write_rates_reports_progress_per_chunk(session: AsyncSession, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fx, "_WRITE_CHUNK", 2)
    calls: list[tuple[int, int]] = []
    quotes = [quote("EUR", "USD", date(2026, 10, day), "1.1") for day in range(26, 31)]
    result = await fx.write_rates(
        session=session, quotes=quotes, source="svc", progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(2, 5), (4, 5), (5, 5)]
    assert result == UpsertResult(inserted=5, updated=0, skipped=0)
    assert await count_rates(session) == 5


async def test_write_rates_with_empty_quotes_writes_nothing(session: AsyncSession) -> None:
    result = await fx.write_rates(session=session, quotes=[], source="svc")
    assert result == UpsertResult(inserted=0, updated=0, skipped=0)


@pytest.mark.parametrize(("bad", "field"), [(quote("EUR", "XAU", ECB_DAY, "2"), "rates[2].quote"),
                                            (quote("XAU", "EUR", ECB_DAY, "2"), "rates[2].base")])  # fmt: skip
async def test_write_rates_unknown_currency_raises_before_writing(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, bad: RateQuote, field: str
) -> None:
    # With one row per chunk, writing the valid rows first would be visible in this transaction.
    monkeypatch.setattr(fx, "_WRITE_CHUNK", 1)
    quotes = [quote("EUR", "USD", ECB_DAY, "1.1172"), quote("EUR", "GBP", ECB_DAY, "0.8338"), bad]
    with pytest.raises(UnknownCurrency) as caught:
        await fx.write_rates(session=session, quotes=quotes, source="svc")
    assert (caught.value.code, caught.value.field, caught.value.location) == ("XAU", field, "body")
    assert await count_rates(session) == 0
    await session.rollback()
    assert await count_rates(session) == 0


# --- sync -------------------------------------------------------------------------------------


async def test_sync_skips_and_names_unknown_currencies_and_writes_the_rest(session: AsyncSession) -> None:
    provider = StubProvider([quote("EUR", "USD", ECB_DAY, "1.1172"), quote("EUR", "XAU", ECB_DAY, "0.0004"),
                             quote("XBT", "USD", ECB_DAY, "70000")])  # fmt: skip
    result = await fx.sync(session=session, provider=provider, start=None, end=None)
    assert result == SyncResult(
        provider="stub", fetched=3, inserted=1, updated=0, skipped=2, unknown_currencies=["XAU", "XBT"]
    )
    await session.rollback()  # what sync wrote is committed
    assert await stored_rates(session) == [("EUR", "USD", ECB_DAY, Decimal("1.1172"), "stub")]


async def test_sync_counts_existing_rates_as_updated_or_skipped(session: AsyncSession) -> None:
    await make_rates(session, [("EUR", "USD", ECB_DAY, "1.1172"), ("EUR", "JPY", ECB_DAY, "175")])
    provider = StubProvider([quote("EUR", "JPY", ECB_DAY, "175.68"), quote("EUR", "USD", ECB_DAY, "1.1172")])
    result = await fx.sync(session=session, provider=provider, start=None, end=None)
    assert result == SyncResult(provider="stub", fetched=2, inserted=0, updated=1, skipped=1, unknown_currencies=[])


async def test_sync_provider_error_becomes_provider_failed_and_writes_nothing(session: AsyncSession) -> None:
    error = ProviderError("stub", "https://rates.test/feed", "answered HTTP 503 after 3 attempts")
    with pytest.raises(ProviderFailed) as caught:
        await fx.sync(session=session, provider=StubProvider(error=error), start=None, end=None)
    assert str(caught.value) == "stub: https://rates.test/feed: answered HTTP 503 after 3 attempts"
    assert caught.value.__cause__ is error
    assert await count_rates(session) == 0


async def test_sync_passes_date_range_to_provider(session: AsyncSession) -> None:
    provider = StubProvider()
    await fx.sync(session=session, provider=provider, start=date(2026, 10, 26), end=date(2026, 10, 30))
    assert provider.calls == [(date(2026, 10, 26), date(2026, 10, 30))]
