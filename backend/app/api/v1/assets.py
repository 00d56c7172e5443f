"""Assets, their prices and their valuation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import (
    DATABASE_UNAVAILABLE,
    UNAUTHORIZED,
    UNREADABLE_BODY,
    AssetDep,
    DateRangeDep,
    FxPolicyDep,
    PageDep,
    SessionDep,
)
from app.core.security import WriteAccess
from app.models.assets import AssetKind
from app.schemas.assets import AssetCreate, AssetOut, AssetUpdate, AssetValuation, PriceOut, PricesUpsert
from app.schemas.common import CurrencyCode, ErrorMessage, Page, PastDate, utc_today
from app.schemas.fx import UpsertResult
from app.services import assets, fx

router = APIRouter(prefix="/assets", tags=["assets"], responses=DATABASE_UNAVAILABLE)
ASSET_404 = {404: {"model": ErrorMessage, "description": "No such asset"}}
WRITE_ERRORS = {**UNAUTHORIZED, **UNREADABLE_BODY}
VALUATION_404 = {404: {"model": ErrorMessage, "description": "No such asset, or no price or rate on or before the date"}}


@router.get("", response_model=Page[AssetOut])
async def list_assets(
    session: SessionDep, page: PageDep, kind: AssetKind | None = None, currency: CurrencyCode | None = None
) -> Page[AssetOut]:
    """Assets in id order, filtered by kind and currency."""
    rows, total = await assets.list_assets(
        session=session, kind=kind, currency=currency, limit=page.limit, offset=page.offset
    )
    return page.of(AssetOut, rows, total)


@router.post(
    "", response_model=AssetOut, status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS, dependencies=[WriteAccess]
)
async def create_asset(body: AssetCreate, session: SessionDep) -> AssetOut:
    """Create an asset."""
    return AssetOut.model_validate(await assets.create(session=session, data=body))


@router.get("/{asset_id}", response_model=AssetOut, responses=ASSET_404)
async def get_asset(asset: AssetDep) -> AssetOut:
    """One asset."""
    return AssetOut.model_validate(asset)


@router.patch("/{asset_id}", response_model=AssetOut, responses={**WRITE_ERRORS, **ASSET_404}, dependencies=[WriteAccess])
async def update_asset(asset: AssetDep, body: AssetUpdate, session: SessionDep) -> AssetOut:
    """Change some fields of an asset."""
    return AssetOut.model_validate(await assets.update(session=session, asset=asset, changes=body))


@router.delete(
    "/{asset_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**UNAUTHORIZED, **ASSET_404},
    dependencies=[WriteAccess],
)
async def delete_asset(asset: AssetDep, session: SessionDep) -> Response:
    """Delete an asset and its prices."""
    await assets.delete(session=session, asset=asset)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{asset_id}/prices", response_model=UpsertResult, responses={**WRITE_ERRORS, **ASSET_404}, dependencies=[WriteAccess]
)
async def upsert_prices(asset: AssetDep, body: PricesUpsert, session: SessionDep) -> UpsertResult:
    """Insert or update many prices at once; if any is invalid, none is written."""
    return await assets.upsert_prices(session=session, asset=asset, prices=body.prices)


@router.get("/{asset_id}/prices", response_model=Page[PriceOut], responses=ASSET_404)
async def list_prices(
    asset: AssetDep, session: SessionDep, page: PageDep, dates: DateRangeDep
) -> Page[PriceOut]:
    """An asset's prices, newest first."""
    rows, total = await assets.list_prices(
        session=session, asset=asset, start=dates.start, end=dates.end, limit=page.limit, offset=page.offset
    )
    return page.of(PriceOut, rows, total)


@router.get("/{asset_id}/valuation", response_model=AssetValuation, responses=VALUATION_404)
async def value_asset(
    asset: AssetDep,
    session: SessionDep,
    policy: FxPolicyDep,
    currency: CurrencyCode,
    on: Annotated[PastDate | None, Query(alias="date", description="Default: today (UTC)")] = None,
) -> AssetValuation:
    """The asset's value in `currency`: latest price on or before `date` x quantity, converted."""
    await fx.minor_units(session=session, codes={"currency": currency})
    return await assets.value(session=session, asset=asset, currency=currency, on=on or utc_today(), policy=policy)
