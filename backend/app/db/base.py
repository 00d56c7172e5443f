"""The declarative base and the column types the models share."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import DateTime, MetaData, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

# Named constraints make Alembic migrations deterministic on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ExactDecimal(TypeDecorator[Decimal]):
    """NUMERIC(precision, scale) on PostgreSQL; the exact digits as text on SQLite.

    SQLite has no exact decimal type: a NUMERIC column there stores 1.1172 as a binary float. We
    keep money and rates out of floats on both databases by storing, on SQLite, the decimal
    quantized to the column's scale, so that equal values are equal strings. Such strings sort
    and compare as text in SQL ("10" < "9"): compare them in Python, or CAST in the query.

    A value the column cannot hold exactly is refused on both databases alike, never rounded:
    PostgreSQL would refuse too many integer digits, but SQLite would store them.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)
        # Room for any finite value we might be handed, so quantize itself never fails.
        self._context = Context(prec=precision + 1000)

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = Decimal(value)
        if not exact.is_finite():
            raise ValueError(f"{exact} is not a finite number")
        if exact.adjusted() >= self.precision - self.scale:
            raise ValueError(f"{exact} has more than {self.precision - self.scale} digits before the decimal point")
        stored = exact.quantize(self._quantum, context=self._context)
        if stored != exact:
            raise ValueError(f"{exact} has more than {self.scale} decimal places")
        if stored.is_zero():
            stored = stored.copy_abs()  # -0 and 0 are one value; store them as one string
        return format(stored, "f") if dialect.name == "sqlite" else stored

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both databases (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must carry a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)
