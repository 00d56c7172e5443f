"""Request and response models of the assets and portfolio API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from app.models.assets import PRICE_PRECISION, PRICE_SCALE, QUANTITY_PRECISION, QUANTITY_SCALE, AssetKind
from app.schemas.common import CurrencyCode, Money, ORMModel, PastDate, PlainDecimal

MAX_PRICES_PER_REQUEST = 10_000

Quantity = Annotated[
    Decimal, Field(ge=0, max_digits=QUANTITY_PRECISION, decimal_places=QUANTITY_SCALE, allow_inf_nan=False)
]
PriceValue = Annotated[
    Decimal, Field(gt=0, max_digits=PRICE_PRECISION, decimal_places=PRICE_SCALE, allow_inf_nan=False)
]


def _printable(value: str) -> str:
    if any(not ch.isprintable() for ch in value):
        raise ValueError("must not contain control characters (newlines, tabs, NUL ...)")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


AssetName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_printable)]


class AssetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AssetName
    kind: AssetKind
    currency: CurrencyCode
    quantity: Quantity


class AssetUpdate(BaseModel):
    """A partial update: only the fields present are changed; none may be set to null."""

    model_config = ConfigDict(extra="forbid")

    name: AssetName | None = None
    kind: AssetKind | None = None
    currency: CurrencyCode | None = None
    quantity: Quantity | None = None

    @field_validator("name", "kind", "currency", "quantity", mode="before")
    @classmethod
    def not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not set to null")
        return value


class AssetOut(ORMModel):
    id: int
    name: str
    kind: AssetKind
    currency: str
    quantity: PlainDecimal
    created_at: dt.datetime
    updated_at: dt.datetime


class PriceIn(BaseModel):
    date: PastDate
    price: PriceValue


def _no_duplicate_dates(prices: list[PriceIn]) -> list[PriceIn]:
    seen: dict[dt.date, int] = {}
    for index, item in enumerate(prices):
        if item.date in seen:
            raise ValueError(
                f"prices[{index}] repeats the date of prices[{seen[item.date]}] ({item.date}); "
                "each date may appear once per request"
            )
        seen[item.date] = index
    return prices


class PricesUpsert(BaseModel):
    prices: Annotated[
        list[PriceIn], Field(min_length=1, max_length=MAX_PRICES_PER_REQUEST), AfterValidator(_no_duplicate_dates)
    ]


class PriceOut(ORMModel):
    date: dt.date = Field(validation_alias="price_date")
    price: PlainDecimal


class AssetValuation(BaseModel):
    asset_id: int
    name: str
    quantity: PlainDecimal
    asset_currency: str
    price: PlainDecimal = Field(description="Price of one unit in the asset's currency (1 for cash)")
    price_date: dt.date | None = Field(description="Date of the price used; null for cash")
    value_in_asset_currency: PlainDecimal
    currency: str
    fx_rate: PlainDecimal
    fx_rate_date: dt.date
    fx_path: str
    value: Money = Field(description="In `currency`, rounded half-even to its minor units")


class UnvaluedAsset(BaseModel):
    asset_id: int
    name: str
    reason: Literal["no_price", "no_rate"]
    detail: str


class PortfolioValuation(BaseModel):
    currency: str
    date: dt.date
    total: Money
    assets: list[AssetValuation]
    unvalued: list[UnvaluedAsset]
