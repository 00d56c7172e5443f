"""Domain errors. Services raise these; `app.api.errors` maps them to HTTP responses in one place."""

from __future__ import annotations

from datetime import date


class DomainError(Exception):
    """Something the caller asked for cannot be done; the message is written for a person."""


class InvalidInput(DomainError):
    """A value that passed its own validation but breaks a rule that needs the database to check."""

    error_type = "invalid_input"

    def __init__(self, message: str, *, field: str, location: str = "query", value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.location = location
        self.value = value


class UnknownCurrency(InvalidInput):
    error_type = "unknown_currency"

    def __init__(self, code: str, *, field: str, location: str = "query") -> None:
        super().__init__(
            f"unknown currency {code!r}; GET /api/v1/fx/currencies lists the known ones",
            field=field,
            location=location,
            value=code,
        )
        self.code = code


class NotFound(DomainError):
    """The thing asked for does not exist (HTTP 404)."""


class RateNotFound(NotFound):
    def __init__(self, from_currency: str, to_currency: str, *, on: date, max_staleness_days: int, pivot: str) -> None:
        super().__init__(
            f"no {from_currency}->{to_currency} rate on {on.isoformat()} or in the {max_staleness_days} days "
            f"before it (direct, inverse or through {pivot})"
        )
        self.from_currency = from_currency
        self.to_currency = to_currency
        self.on = on


class NoRates(NotFound):
    def __init__(self, base: str, *, on: date) -> None:
        super().__init__(f"no rates from {base} on or before {on.isoformat()}")
        self.base = base
        self.on = on


class AssetNotFound(NotFound):
    def __init__(self, asset_id: int) -> None:
        super().__init__(f"asset {asset_id} does not exist")
        self.asset_id = asset_id


class PriceNotFound(NotFound):
    def __init__(self, asset_id: int, on: date) -> None:
        super().__init__(f"asset {asset_id} has no price on or before {on.isoformat()}")
        self.asset_id = asset_id
        self.on = on


class ProviderFailed(DomainError):
    """An FX provider could not deliver usable data (HTTP 502)."""
