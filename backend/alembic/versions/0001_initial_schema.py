"""initial schema: currencies, fx_rates, assets, asset_prices

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.db.base import ExactDecimal, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("minor_units", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("minor_units BETWEEN 0 AND 4", name=op.f("ck_currencies_minor_units_range")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_currencies")),
    )
    op.create_table(
        "fx_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate", ExactDecimal(precision=24, scale=10), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("CAST(rate AS NUMERIC) > 0", name=op.f("ck_fx_rates_rate_positive")),
        sa.CheckConstraint("base <> quote", name=op.f("ck_fx_rates_distinct_currencies")),
        sa.ForeignKeyConstraint(["base"], ["currencies.code"], name=op.f("fk_fx_rates_base_currencies")),
        sa.ForeignKeyConstraint(["quote"], ["currencies.code"], name=op.f("fk_fx_rates_quote_currencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint("base", "quote", "rate_date", name=op.f("uq_fx_rates_base_quote_rate_date")),
    )
    # "Latest rates" looks for the newest date first.
    op.create_index(op.f("ix_fx_rates_rate_date"), "fx_rates", ["rate_date"])
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "cash", "stock", "bond", "fund", "crypto",
                name="assetkind", native_enum=False, create_constraint=True, length=16,
            ),
            nullable=False,
        ),  # fmt: skip
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quantity", ExactDecimal(precision=28, scale=8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("CAST(quantity AS NUMERIC) >= 0", name=op.f("ck_assets_quantity_non_negative")),
        sa.ForeignKeyConstraint(["currency"], ["currencies.code"], name=op.f("fk_assets_currency_currencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
    )
    op.create_table(
        "asset_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("price_date", sa.Date(), nullable=False),
        sa.Column("price", ExactDecimal(precision=24, scale=8), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("CAST(price AS NUMERIC) > 0", name=op.f("ck_asset_prices_price_positive")),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["assets.id"], name=op.f("fk_asset_prices_asset_id_assets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_prices")),
        sa.UniqueConstraint("asset_id", "price_date", name=op.f("uq_asset_prices_asset_id_price_date")),
    )


def downgrade() -> None:
    op.drop_table("asset_prices")
    op.drop_table("assets")
    op.drop_index(op.f("ix_fx_rates_rate_date"), table_name="fx_rates")
    op.drop_table("fx_rates")
    op.drop_table("currencies")
