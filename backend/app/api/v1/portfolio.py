"""The value of every asset together."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import DATABASE_UNAVAILABLE, FxPolicyDep, SessionDep
from app.schemas.assets import PortfolioValuation
from app.schemas.common import CurrencyCode, PastDate, utc_today
from app.services import assets

router = APIRouter(prefix="/portfolio", tags=["portfolio"], responses=DATABASE_UNAVAILABLE)


@router.get("/valuation", response_model=PortfolioValuation)
async def value_portfolio(
    session: SessionDep,
    policy: FxPolicyDep,
    currency: CurrencyCode,
    on: Annotated[PastDate | None, Query(alias="date", description="Default: today (UTC)")] = None,
) -> PortfolioValuation:
    """The total in `currency`, a line per asset, and the assets that could not be valued and why."""
    return await assets.value_portfolio(session=session, currency=currency, on=on or utc_today(), policy=policy)
