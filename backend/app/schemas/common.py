"""Types and models shared by the API's schemas."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

_CODE = re.compile(r"[A-Z]{3}")


def _check_currency_code(value: str) -> str:
    if not _CODE.fullmatch(value):
        raise ValueError(f"must be a three-letter ISO 4217 code in capitals, such as USD (got {value!r})")
    return value


def _plain(value: Decimal) -> str:
    """`Decimal` as plain digits without trailing zeros: 1.1172000000 -> "1.1172", 1E+2 -> "100"."""
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


CurrencyCode = Annotated[str, AfterValidator(_check_currency_code)]
# Money and rates travel as JSON strings: a JSON number would be read as a float by most clients.
PlainDecimal = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]
# An amount already rounded to its currency's minor units keeps them: "12.00", not "12".
Money = Annotated[Decimal, PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json")]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list, with the total the filters match."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ErrorMessage(BaseModel):
    """The body of every 4xx and 5xx that is not a validation error."""

    detail: str


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def utc_today() -> date:
    return datetime.now(UTC).date()


def _not_in_future(value: date) -> date:
    today = utc_today()
    if value > today:
        raise ValueError(f"must not be in the future (today is {today.isoformat()} UTC)")
    return value


PastDate = Annotated[date, AfterValidator(_not_in_future)]
