"""Types and models shared by the API's schemas."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PlainSerializer,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)

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


# The JSON schema states the rule the validator enforces, so that clients (and the fuzzer) know
# it; the validator stays, for its message that names the rule and the value.
CurrencyCode = Annotated[
    str,
    AfterValidator(_check_currency_code),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$", "examples": ["USD"]}),
]
# Money and rates travel as JSON strings: a JSON number would be read as a float by most clients.
PlainDecimal = Annotated[Decimal, PlainSerializer(_plain, return_type=str, when_used="json")]
# An amount already rounded to its currency's minor units keeps them: "12.00", not "12".
Money = Annotated[Decimal, PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json")]


def decimal_text(*, whole_digits: int, decimal_places: int, positive: bool) -> tuple[WrapValidator, WithJsonSchema]:
    """Metadata for a `Decimal` input written as a JSON string of plain digits, such as "12.50".

    pydantic checks the value first (sign, digits, decimal places: its messages name the rule);
    then we refuse what it would also have read but the schema does not offer: JSON numbers
    (a float may already have lost digits), exponents, signs, spaces, underscores, leading zeros
    and digits other than 0-9. The pattern in the schema is the same rule, so a client that
    follows the schema is never refused, and one that does not always is.
    """
    nonzero = "(?=[0-9.]*[1-9])" if positive else ""
    pattern = f"^{nonzero}(0|[1-9][0-9]{{0,{whole_digits - 1}}})(\\.[0-9]{{1,{decimal_places}}})?$"
    form = re.compile(pattern[1:-1])
    rule = (
        f"must be a string of plain digits with at most {whole_digits} before the point and "
        f'{decimal_places} after it, such as "12.50" (no sign, exponent, spaces or leading zeros)'
    )

    def check_form(value: Any, handler: ValidatorFunctionWrapHandler) -> Decimal:
        result = handler(value)
        if isinstance(value, Decimal):  # built in Python, not read from a request
            return result
        if not isinstance(value, str):
            raise ValueError(f"{rule}; a JSON number may already have lost digits")
        if not form.fullmatch(value):
            raise ValueError(rule)
        return result

    return WrapValidator(check_form), WithJsonSchema({"type": "string", "pattern": pattern, "examples": ["12.50"]})


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


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any, handler: ValidatorFunctionWrapHandler) -> date:
    """pydantic reads a date (its messages name what is wrong with one), but also reads `0` or
    "86400" as a Unix time and "2026-10-30T00:00" as a datetime; we take only what the schema's
    `format: date` (RFC 3339 full-date) offers, so that `start=0` is refused, not 1970-01-01."""
    result = handler(value)
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return result
    raise ValueError(f"must be a date written YYYY-MM-DD, such as 2026-10-30 (got {value!r})")


IsoDate = Annotated[date, WrapValidator(_iso_date)]
PastDate = Annotated[IsoDate, AfterValidator(_not_in_future)]
