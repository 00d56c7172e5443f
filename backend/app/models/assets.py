"""Assets and their prices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, ExactDecimal, UTCDateTime, utcnow

QUANTITY_PRECISION, QUANTITY_SCALE = 28, 8
PRICE_PRECISION, PRICE_SCALE = 24, 8


class AssetKind(StrEnum):
    cash = "cash"
    stock = "stock"
    bond = "bond"
    fund = "fund"
    crypto = "crypto"


class Asset(Base):
    """A holding: `quantity` units of something priced in `currency` (cash is its own price)."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AssetKind] = mapped_column(
        Enum(AssetKind, native_enum=False, length=16, validate_strings=True, create_constraint=True)
    )
    currency: Mapped[str] = mapped_column(ForeignKey("currencies.code"))
    quantity: Mapped[Decimal] = mapped_column(ExactDecimal(QUANTITY_PRECISION, QUANTITY_SCALE))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (CheckConstraint("CAST(quantity AS NUMERIC) >= 0", name="quantity_non_negative"),)


class AssetPrice(Base):
    """The price of one unit of an asset, in the asset's currency, on a date."""

    __tablename__ = "asset_prices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    price_date: Mapped[date] = mapped_column(Date)
    price: Mapped[Decimal] = mapped_column(ExactDecimal(PRICE_PRECISION, PRICE_SCALE))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("asset_id", "price_date"),
        CheckConstraint("CAST(price AS NUMERIC) > 0", name="price_positive"),
    )
