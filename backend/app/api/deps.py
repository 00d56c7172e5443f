"""Dependencies shared by the routers, as Annotated aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Annotated, TypeVar

from pydantic import BaseModel

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.assets import Asset
from app.services import assets
from app.schemas.common import Page
from app.services.errors import AssetNotFound, InvalidInput
from app.services.fx import FxPolicy

# Our integer primary keys are 32-bit on PostgreSQL; a larger id cannot exist, and must not reach
# the driver, which would fail on it with a 500.
MAX_ID = 2**31 - 1


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; closing it rolls back whatever a failed request left uncommitted."""
    async with request.app.state.sessionmaker() as session:
        yield session


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_fx_policy(settings: SettingsDep) -> FxPolicy:
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

    def __init__(self, start: date | None = None, end: date | None = None) -> None:
        if start is not None and end is not None and start > end:
            raise InvalidInput(f"start ({start}) must not be after end ({end})", field="start", value=str(start))
        self.start = start
        self.end = end


DateRangeDep = Annotated[DateRange, Depends()]
