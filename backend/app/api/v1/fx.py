"""Currencies, rates, conversion and provider sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import (
    DATABASE_UNAVAILABLE,
    UNAUTHORIZED,
    UNREADABLE_BODY,
    DateRangeDep,
    FxPolicyDep,
    PageDep,
    SessionDep,
    SettingsDep,
)
from app.core.security import WriteAccess
from app.schemas.common import CurrencyCode, ErrorMessage, Page, PastDate, utc_today
from app.schemas.fx import (
    AmountValue,
    Conversion,
    CurrencyOut,
    LatestRates,
    RateOut,
    RatesUpsert,
    SyncRequest,
    SyncResult,
    UpsertResult,
)
from app.services import fx, providers
from app.services.errors import InvalidInput
from app.services.providers import RateQuote

router = APIRouter(prefix="/fx", tags=["fx"], responses=DATABASE_UNAVAILABLE)
NOT_FOUND = {404: {"model": ErrorMessage, "description": "No rate within the staleness window"}}


@router.get("/currencies", response_model=list[CurrencyOut])
async def list_currencies(session: SessionDep) -> list[CurrencyOut]:
    """Every currency the service knows, with its minor units."""
    return [CurrencyOut.model_validate(c) for c in await fx.list_currencies(session=session)]


@router.get("/rates", response_model=Page[RateOut])
async def list_rates(
    session: SessionDep,
    page: PageDep,
    dates: DateRangeDep,
    base: CurrencyCode | None = None,
    quote: CurrencyCode | None = None,
) -> Page[RateOut]:
    """Stored rates, newest first, filtered by base, quote and an inclusive date range."""
    rows, total = await fx.list_rates(
        session=session, base=base, quote=quote, start=dates.start, end=dates.end, limit=page.limit, offset=page.offset
    )
    return page.of(RateOut, rows, total)


@router.get("/rates/latest", response_model=LatestRates, responses=NOT_FOUND)
async def latest_rates(
    session: SessionDep,
    policy: FxPolicyDep,
    base: CurrencyCode = "EUR",
    on: Annotated[PastDate | None, Query(alias="date", description="Default: today (UTC)")] = None,
) -> LatestRates:
    """The newest rates from `base` into every currency, on or before `date`."""
    return await fx.latest_rates(session=session, base=base, on=on or utc_today(), policy=policy)


@router.post(
    "/rates", response_model=UpsertResult, responses={**UNAUTHORIZED, **UNREADABLE_BODY}, dependencies=[WriteAccess]
)
async def upsert_rates(body: RatesUpsert, session: SessionDep) -> UpsertResult:
    """Insert or update many rates at once; if any is invalid, none is written."""
    quotes = [RateQuote(base=r.base, quote=r.quote, on=r.date, rate=r.rate) for r in body.rates]
    return await fx.upsert_rates(session=session, quotes=quotes, source=body.source)


@router.get("/convert", response_model=Conversion, response_model_by_alias=True, responses=NOT_FOUND)
async def convert(
    session: SessionDep,
    policy: FxPolicyDep,
    amount: AmountValue,
    from_currency: Annotated[CurrencyCode, Query(alias="from")],
    to_currency: Annotated[CurrencyCode, Query(alias="to")],
    on: Annotated[PastDate | None, Query(alias="date", description="Default: today (UTC)")] = None,
) -> Conversion:
    """Convert an amount: direct, inverse or through the pivot currency, with the newest rate
    on or before `date` within the staleness window."""
    return await fx.convert(
        session=session,
        amount=amount,
        from_currency=from_currency,
        to_currency=to_currency,
        on=on or utc_today(),
        policy=policy,
    )


@router.post(
    "/sync",
    response_model=SyncResult,
    dependencies=[WriteAccess],
    responses={
        **UNAUTHORIZED,
        **UNREADABLE_BODY,
        502: {"model": ErrorMessage, "description": "The provider failed; nothing was written"},
    },
)
async def sync(body: SyncRequest, session: SessionDep, settings: SettingsDep) -> SyncResult:
    """Fetch rates from a provider (`ecb_file`, `ecb_http`) and upsert them."""
    try:
        provider = providers.get_provider(body.provider, settings)
    except providers.UnknownProvider as exc:
        raise InvalidInput(str(exc), field="provider", location="body", value=body.provider) from exc
    return await fx.sync(session=session, provider=provider, start=body.start, end=body.end)
