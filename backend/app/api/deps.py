"""Dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, TypeVar

from pydantic import BaseModel

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.assets import Asset
from app.services import assets
from app.schemas.common import ErrorMessage, IsoDate, Page
from app.services.errors import AssetNotFound, InvalidInput
from app.services.fx import FxPolicy

# Our integer primary keys are 32-bit on PostgreSQL; a larger id cannot exist, and must not reach
# the driver, which would fail on it with a 500.
MAX_ID = 2**31 - 1

# The errors a route can answer with besides its own, for the OpenAPI schema: every write checks
# the bearer token (app.core.security), and every route that reads the database gets a 503 when
# it is unavailable (app.api.errors).
UNAUTHORIZED = {
    401: {
        "model": ErrorMessage,
        "description": "No valid bearer token: the message says whether it is missing, malformed or wrong",
        "headers": {"WWW-Authenticate": {"description": "Always `Bearer`", "schema": {"type": "string"}}},
    }
}
# FastAPI answers 400 (not 422) to a body it cannot even decode, such as bytes that are not UTF-8.
UNREADABLE_BODY = {400: {"model": ErrorMessage, "description": "The body is not JSON text in UTF-8"}}
DATABASE_UNAVAILABLE = {
    503: {
        "model": ErrorMessage,
        "description": "The database is unavailable; nothing was written",
        "headers": {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "string"}}},
    }
}


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; closing it rolls back whatever a failed request left uncommitted."""
    async with request.app.state.sessionmaker() as session:
        yield session


# `async def` for the two cheap dependencies: FastAPI runs a plain `def` dependency in the
# threadpool, a thread hop per request for an attribute read.
async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


async def get_fx_policy(settings: SettingsDep) -> FxPolicy:
    return FxPolicy(pivot=settings.fx_pivot_currency, max_staleness_days=settings.fx_max_staleness_days)


FxPolicyDep = Annotated[FxPolicy, Depends(get_fx_policy)]


async def valid_asset(asset_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep) -> Asset:
    asset = await assets.get(session=session, asset_id=asset_id)
    if asset is None:
        raise AssetNotFound(asset_id)
    return asset


AssetDep = Annotated[Asset, Depends(valid_asset)]


class PageParams:
    """`limit` and `offset` for every list endpoint."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500, description="At most 500 items a page")] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset

    def of(self, model: type[ItemT], rows: Sequence[object], total: int) -> Page[ItemT]:
        """This page of `rows`, each read into `model`."""
        return Page[model](  # type: ignore[valid-type]
            items=[model.model_validate(row) for row in rows], total=total, limit=self.limit, offset=self.offset
        )


ItemT = TypeVar("ItemT", bound=BaseModel)
PageDep = Annotated[PageParams, Depends()]


class DateRange:
    """Optional inclusive `start` and `end` dates; a reversed range is refused."""

    def __init__(self, start: IsoDate | None = None, end: IsoDate | None = None) -> None:
        if start is not None and end is not None and start > end:
            raise InvalidInput(f"start ({start}) must not be after end ({end})", field="start", value=str(start))
        self.start = start
        self.end = end


DateRangeDep = Annotated[DateRange, Depends()]
