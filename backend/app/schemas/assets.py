"""Request and response models of the assets and portfolio API."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.models.assets import PRICE_PRECISION, PRICE_SCALE, QUANTITY_PRECISION, QUANTITY_SCALE, AssetKind
from app.schemas.common import CurrencyCode, Money, ORMModel, PastDate, PlainDecimal, decimal_text

MAX_PRICES_PER_REQUEST = 10_000

Quantity = Annotated[
    Decimal,
    Field(ge=0, max_digits=QUANTITY_PRECISION, decimal_places=QUANTITY_SCALE, allow_inf_nan=False),
    *decimal_text(whole_digits=QUANTITY_PRECISION - QUANTITY_SCALE, decimal_places=QUANTITY_SCALE, positive=False),
]
PriceValue = Annotated[
    Decimal,
    Field(gt=0, max_digits=PRICE_PRECISION, decimal_places=PRICE_SCALE, allow_inf_nan=False),
    *decimal_text(whole_digits=PRICE_PRECISION - PRICE_SCALE, decimal_places=PRICE_SCALE, positive=True),
]


# Control characters (C0, DEL, C1), lone surrogates (which JSON's \\ud800 escapes can produce, and
# no database can store as UTF-8), line and paragraph separators, and the bidirectional controls
# that make a name display as something else ("Trojan Source"). Other spaces and the zero-width
# joiners of emoji sequences are fine in a name.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(value: str) -> str:
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES or ch in _BIDI_CONTROLS for ch in value):
        raise ValueError("must not contain control characters (newlines, tabs, NUL ...)")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# JSON Schema has no portable way to say which characters: the description says it.
AssetName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="Not blank; no control characters, line separators, bidirectional controls or lone surrogates",
    ),
    AfterValidator(_printable),
]


class AssetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AssetName
    kind: AssetKind
    currency: CurrencyCode
    quantity: Quantity


class AssetUpdate(BaseModel):
    """A partial update: only the fields present are changed; none may be set to null."""

    model_config = ConfigDict(extra="forbid")

    # None only stands for "left out": the schema offers no null, as `not_null` refuses one.
    name: AssetName | SkipJsonSchema[None] = None
    kind: AssetKind | SkipJsonSchema[None] = None
    currency: CurrencyCode | SkipJsonSchema[None] = None
    quantity: Quantity | SkipJsonSchema[None] = None

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
