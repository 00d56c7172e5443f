"""Request and response models of the FX API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema, model_validator

from app.models.fx import RATE_PRECISION, RATE_SCALE
from app.schemas.common import CurrencyCode, Money, ORMModel, PastDate, PlainDecimal, decimal_text
from app.services.providers import PROVIDER_NAMES

MAX_RATES_PER_REQUEST = 10_000

RateValue = Annotated[
    Decimal,
    Field(gt=0, max_digits=RATE_PRECISION, decimal_places=RATE_SCALE, allow_inf_nan=False),
    *decimal_text(whole_digits=RATE_PRECISION - RATE_SCALE, decimal_places=RATE_SCALE, positive=True),
]
# Up to a trillion trillions with 8 decimals: any real amount, and no integer overflow downstream.
AmountValue = Annotated[
    Decimal,
    Field(ge=0, max_digits=32, decimal_places=8, allow_inf_nan=False),
    *decimal_text(whole_digits=24, decimal_places=8, positive=False),
]


class CurrencyOut(ORMModel):
    code: str
    name: str
    minor_units: int


class RateIn(BaseModel):
    base: CurrencyCode
    quote: CurrencyCode
    date: PastDate
    rate: RateValue


def _no_duplicate_keys(rates: list[RateIn]) -> list[RateIn]:
    seen: dict[tuple[str, str, dt.date], int] = {}
    for index, item in enumerate(rates):
        if item.base == item.quote:
            raise ValueError(f"rates[{index}]: base and quote are both {item.base}; a rate needs two currencies")
        key = (item.base, item.quote, item.date)
        if key in seen:
            raise ValueError(
                f"rates[{index}] repeats rates[{seen[key]}] ({item.base}/{item.quote} on {item.date}); "
                "each (base, quote, date) may appear once per request"
            )
        seen[key] = index
    return rates


class RatesUpsert(BaseModel):
    """A bulk upsert: every rate is written, or none is."""

    rates: Annotated[
        list[RateIn], Field(min_length=1, max_length=MAX_RATES_PER_REQUEST), AfterValidator(_no_duplicate_keys)
    ]
    source: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_.-]+$")] = "api"


class UpsertResult(BaseModel):
    inserted: int
    updated: int
    skipped: int


class RateOut(ORMModel):
    base: str
    quote: str
    date: dt.date = Field(validation_alias="rate_date")
    rate: PlainDecimal
    source: str


class LatestRates(BaseModel):
    base: str
    date: dt.date
    rates: dict[str, PlainDecimal]


class ConversionLeg(BaseModel):
    base: str
    quote: str
    date: dt.date
    rate: PlainDecimal
    inverted: bool = Field(description="True when the stored rate was quote->base and we used its inverse")


class Conversion(BaseModel):
    amount: PlainDecimal
    from_currency: str = Field(serialization_alias="from")
    to_currency: str = Field(serialization_alias="to")
    requested_date: dt.date
    rate_date: dt.date
    stale_days: int = Field(description="How many days before the requested date the rate is from")
    path: Literal["identity", "direct", "inverse", "cross"]
    rate: PlainDecimal = Field(description="The effective rate from -> to, to 12 significant digits")
    result: Money = Field(description="Rounded half-even to the target currency's minor units")
    legs: list[ConversionLeg]


class SyncRequest(BaseModel):
    # The route refuses an unknown name with a message listing the known ones; the schema lists them too.
    provider: Annotated[
        str, Field(min_length=1, max_length=32), WithJsonSchema({"type": "string", "enum": list(PROVIDER_NAMES)})
    ] = "ecb_file"
    start: PastDate | None = None
    end: PastDate | None = None

    @model_validator(mode="after")
    def check_range(self) -> SyncRequest:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start ({self.start}) must not be after end ({self.end})")
        return self


class SyncResult(UpsertResult):
    provider: str
    fetched: int
    unknown_currencies: list[str] = Field(
        description="Currencies in the provider's data that the currencies table does not know; their rates are skipped"
    )

