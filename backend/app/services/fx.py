"""Currencies, rates and conversion: the business logic behind /api/v1/fx."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal
from fractions import Fraction

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import utcnow
from app.models.fx import Currency, FxRate
from app.schemas.fx import Conversion, ConversionLeg, LatestRates, SyncResult, UpsertResult
from app.services import upserts
from app.services.errors import NoRates, ProviderFailed, RateNotFound, UnknownCurrency
from app.services.providers import Provider, ProviderError, RateQuote

logger = logging.getLogger(__name__)

# Derived (inverse and cross) rates are shown to 12 significant digits; the result itself is
# computed exactly from the stored rates, not from this rounded figure.
_SHOWN_RATE = Context(prec=12, rounding=ROUND_HALF_EVEN)
# Rows per INSERT ... ON CONFLICT statement (tests make it small to see the progress per chunk).
_WRITE_CHUNK = upserts.WRITE_CHUNK

Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class FxPolicy:
    """How conversions look for rates: through which pivot, and how far back."""

    pivot: str
    max_staleness_days: int


async def list_currencies(*, session: AsyncSession) -> Sequence[Currency]:
    return (await session.scalars(select(Currency).order_by(Currency.code))).all()


# The statements of the hot paths (convert, valuation) are built once, with a fixed shape: building
# a select with IN lists on each call cost more CPU than running it (bench's throughput section).
# Up to three codes, a set padded by repeating its first, so the compiled form is always cached.
_CODES = tuple(bindparam(f"code{i}") for i in range(3))
_currencies, _rates = Currency.__table__.c, FxRate.__table__.c
_MINOR_UNITS = select(_currencies.code, _currencies.minor_units).where(_currencies.code.in_(_CODES))
_RATES_IN_WINDOW = select(_rates.rate_date, _rates.base, _rates.quote, _rates.rate).where(
    _rates.base.in_(_CODES), _rates.quote.in_(_CODES), _rates.rate_date.between(bindparam("start"), bindparam("end"))
)


def _code_params(codes: Iterable[str]) -> dict[str, str]:
    """The bound values for 1 to 3 codes; the strict zip refuses any other number (a caller's bug)."""
    distinct = sorted(set(codes))
    padded = distinct + distinct[:1] * (len(_CODES) - len(distinct))
    return {param.key: code for param, code in zip(_CODES, padded, strict=True)}


async def minor_units(*, session: AsyncSession, codes: Mapping[str, str], location: str = "query") -> dict[str, int]:
    """The decimals of each currency named by `codes` (field name -> code); UnknownCurrency names
    the first field whose code is unknown."""
    rows = await session.execute(_MINOR_UNITS, _code_params(codes.values()))
    found: dict[str, int] = dict(rows.all())
    for field, code in codes.items():
        if code not in found:
            raise UnknownCurrency(code, field=field, location=location)
    return found


async def list_rates(
    *,
    session: AsyncSession,
    base: str | None,
    quote: str | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[FxRate], int]:
    """Stored rates, newest first, with the number that match the filters."""
    conditions = []
    if base is not None:
        conditions.append(FxRate.base == base)
    if quote is not None:
        conditions.append(FxRate.quote == quote)
    if start is not None:
        conditions.append(FxRate.rate_date >= start)
    if end is not None:
        conditions.append(FxRate.rate_date <= end)
    total = await session.scalar(select(func.count()).select_from(FxRate).where(*conditions))
    rows = await session.scalars(
        select(FxRate)
        .where(*conditions)
        .order_by(FxRate.rate_date.desc(), FxRate.base, FxRate.quote)
        .limit(limit)
        .offset(offset)
    )
    return rows.all(), total or 0


def _leg(table: Mapping[Pair, Decimal], src: str, dst: str, on: date) -> tuple[Fraction, ConversionLeg] | None:
    """How many `dst` one `src` buys on `on`, from a stored rate either way round.

    The factor is a Fraction: 1 / 1.1172 has no finite decimal form, and a product rounded to
    any number of digits can put an amount that is exactly half a cent on the wrong side of it.
    """
    if (src, dst) in table:
        rate = table[src, dst]
        return Fraction(rate), ConversionLeg(base=src, quote=dst, date=on, rate=rate, inverted=False)
    if (dst, src) in table:
        rate = table[dst, src]
        return 1 / Fraction(rate), ConversionLeg(base=dst, quote=src, date=on, rate=rate, inverted=True)
    return None


def _resolve(
    table: Mapping[Pair, Decimal], src: str, dst: str, pivot: str, on: date
) -> tuple[str, Fraction, list[ConversionLeg]] | None:
    """The path, the exact effective rate and the legs from `src` to `dst` with the rates of one day."""
    if (src, dst) in table:
        factor, leg = _leg(table, src, dst, on)  # type: ignore[misc]
        return "direct", factor, [leg]
    if (dst, src) in table:
        factor, leg = _leg(table, src, dst, on)  # type: ignore[misc]
        return "inverse", factor, [leg]
    if pivot in (src, dst):
        return None
    first, second = _leg(table, src, pivot, on), _leg(table, pivot, dst, on)
    if first is None or second is None:
        return None
    return "cross", first[0] * second[0], [first[1], second[1]]


async def _rates_by_date(
    session: AsyncSession, currencies: Iterable[str], *, start: date, end: date
) -> dict[date, dict[Pair, Decimal]]:
    rows = await session.execute(_RATES_IN_WINDOW, {**_code_params(currencies), "start": start, "end": end})
    by_date: dict[date, dict[Pair, Decimal]] = defaultdict(dict)
    for rate_date, base, quote, rate in rows:
        by_date[rate_date][base, quote] = rate
    return by_date


def _shown(rate: Fraction) -> Decimal:
    """A derived (inverse or cross) rate to 12 significant digits, for people to read."""
    return _SHOWN_RATE.divide(Decimal(rate.numerator), Decimal(rate.denominator))


def round_money(amount: Fraction | Decimal, minor_units: int) -> Decimal:
    """`amount` rounded half-even to `minor_units` decimals, in one exact step."""
    scaled = Fraction(amount) * 10**minor_units
    # round() on a Fraction is exact and rounds halves to even. scaleb rounds to its context's
    # precision (28 digits by default): give it room for every digit of the largest amounts.
    units = round(scaled)
    return Decimal(units).scaleb(-minor_units, Context(prec=max(28, len(str(abs(units))))))


async def convert(
    *, session: AsyncSession, amount: Decimal, from_currency: str, to_currency: str, on: date, policy: FxPolicy
) -> Conversion:
    """Convert `amount` with the newest rate on or before `on`, within the staleness window.

    We try, on each day from `on` backwards, a direct rate, then the inverse of the opposite rate,
    then a cross rate through the pivot currency; the first day that has any of them wins.
    """
    decimals = (await minor_units(session=session, codes={"from": from_currency, "to": to_currency}))[to_currency]
    if from_currency == to_currency:
        return Conversion(
            amount=amount, from_currency=from_currency, to_currency=to_currency, requested_date=on, rate_date=on,
            stale_days=0, path="identity", rate=Decimal(1), result=round_money(amount, decimals), legs=[],
        )  # fmt: skip
    # Clamped at 0001-01-01: subtracting days past the start of the calendar raises OverflowError.
    window_start = date.fromordinal(max(1, on.toordinal() - policy.max_staleness_days))
    by_date = await _rates_by_date(
        session, {from_currency, to_currency, policy.pivot}, start=window_start, end=on
    )
    for rate_date in sorted(by_date, reverse=True):
        found = _resolve(by_date[rate_date], from_currency, to_currency, policy.pivot, rate_date)
        if found is None:
            continue
        path, factor, legs = found
        return Conversion(
            amount=amount, from_currency=from_currency, to_currency=to_currency, requested_date=on,
            rate_date=rate_date, stale_days=(on - rate_date).days, path=path,
            rate=legs[0].rate if path == "direct" else _shown(factor),
            result=round_money(Fraction(amount) * factor, decimals), legs=legs,
        )  # fmt: skip
    raise RateNotFound(
        from_currency, to_currency, on=on, max_staleness_days=policy.max_staleness_days, pivot=policy.pivot
    )


async def latest_rates(*, session: AsyncSession, base: str, on: date, policy: FxPolicy) -> LatestRates:
    """Every rate from `base` on the newest day on or before `on` that has rates for it."""
    await minor_units(session=session, codes={"base": base})
    # Every path from `base` (direct, inverse, or through the pivot) starts with a rate naming it.
    names_base = or_(FxRate.base == base, FxRate.quote == base)
    newest = await session.scalar(select(func.max(FxRate.rate_date)).where(names_base, FxRate.rate_date <= on))
    if newest is None:
        raise NoRates(base, on=on)
    rows = await session.execute(
        select(FxRate.base, FxRate.quote, FxRate.rate).where(FxRate.rate_date == newest)
    )
    table = {(b, q): r for b, q, r in rows}
    rates: dict[str, Decimal] = {}
    for code in sorted({c for pair in table for c in pair} - {base}):
        found = _resolve(table, base, code, policy.pivot, newest)
        if found is not None:
            path, factor, legs = found
            rates[code] = legs[0].rate if path == "direct" else _shown(factor)
    return LatestRates(base=base, date=newest, rates=rates)


async def known_currency_codes(*, session: AsyncSession) -> set[str]:
    return set(await session.scalars(select(Currency.code)))


async def upsert_rates(
    *, session: AsyncSession, quotes: Sequence[RateQuote], source: str
) -> UpsertResult:
    """Write `quotes` (see `write_rates`) and commit: every rate is written, or none is."""
    result = await write_rates(session=session, quotes=quotes, source=source)
    await session.commit()
    return result


async def sync(
    *,
    session: AsyncSession,
    provider: Provider,
    start: date | None,
    end: date | None,
    progress: Callable[[int, int], None] | None = None,
) -> SyncResult:
    """Fetch rates from `provider` and write them in one transaction.

    A provider's rates for currencies we do not know are skipped and named in the result: a new
    currency at the ECB should not stop the others from updating.
    """
    try:
        quotes = await provider.fetch(start=start, end=end)
    except ProviderError as exc:
        raise ProviderFailed(str(exc)) from exc
    known = await known_currency_codes(session=session)
    usable = [q for q in quotes if q.base in known and q.quote in known]
    unknown = sorted({code for q in quotes for code in (q.base, q.quote)} - known)
    if unknown:
        logger.warning("%s: skipping rates for unknown currencies %s", provider.name, ", ".join(unknown))
    written = await write_rates(session=session, quotes=usable, source=provider.name, known=known, progress=progress)
    await session.commit()
    return SyncResult(
        provider=provider.name,
        fetched=len(quotes),
        inserted=written.inserted,
        updated=written.updated,
        skipped=written.skipped + len(quotes) - len(usable),
        unknown_currencies=unknown,
    )


async def write_rates(
    *,
    session: AsyncSession,
    quotes: Sequence[RateQuote],
    source: str,
    known: set[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UpsertResult:
    """Insert new rates, update changed ones, skip equal ones, in the caller's transaction.

    Unknown currencies raise before anything is written. The counts are exact, and the rates are
    written as a whole, even while other requests write the same keys (see `app.services.upserts`).
    """
    if not quotes:
        return UpsertResult(inserted=0, updated=0, skipped=0)
    if known is None:
        known = await known_currency_codes(session=session)
    for index, q in enumerate(quotes):
        for field, code in (("base", q.base), ("quote", q.quote)):
            if code not in known:
                raise UnknownCurrency(code, field=f"rates[{index}].{field}", location="body")
    now = utcnow()
    rows = [
        {"base": q.base, "quote": q.quote, "rate_date": q.on, "rate": q.rate, "source": source, "updated_at": now}
        for q in quotes
    ]
    result = await upserts.upsert(
        session=session, table=FxRate.__table__, rows=rows, key=("base", "quote", "rate_date"), value="rate",
        chunk=_WRITE_CHUNK, progress=progress,
    )  # fmt: skip
    logger.info(
        "upserted %d rates from %s: %d new, %d changed", result.inserted + result.updated, source, result.inserted,
        result.updated,
    )  # fmt: skip
    return result
