"""Currencies and exchange rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ExactDecimal, UTCDateTime, utcnow

RATE_PRECISION, RATE_SCALE = 24, 10


class Currency(Base):
    """An ISO 4217 currency; `minor_units` is how many decimals its amounts are rounded to."""

    __tablename__ = "currencies"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    minor_units: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (CheckConstraint("minor_units BETWEEN 0 AND 4", name="minor_units_range"),)


class FxRate(Base):
    """One unit of `base` is worth `rate` units of `quote` on `rate_date`."""

    __tablename__ = "fx_rates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    base: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    quote: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    rate_date: Mapped[date] = mapped_column(Date, index=True)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal(RATE_PRECISION, RATE_SCALE))
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("base", "quote", "rate_date"),
        # CAST makes the check mean the same on SQLite, where the value is stored as text.
        CheckConstraint("CAST(rate AS NUMERIC) > 0", name="rate_positive"),
        CheckConstraint("base <> quote", name="distinct_currencies"),
    )
