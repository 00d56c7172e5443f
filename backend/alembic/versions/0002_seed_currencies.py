"""seed currencies: ISO 4217 codes, names and minor units

Every currency in the bundled ECB history (including the ones the euro replaced) and a few with
three or four minor units, so rounding beyond cents is exercised. Names and minor units as in the
ISO 4217 list (current and historic tables).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CURRENCIES = [
    ("AUD", "Australian Dollar", 2),
    ("BGN", "Bulgarian Lev", 2),
    ("BHD", "Bahraini Dinar", 3),
    ("BRL", "Brazilian Real", 2),
    ("CAD", "Canadian Dollar", 2),
    ("CHF", "Swiss Franc", 2),
    ("CLF", "Unidad de Fomento", 4),
    ("CNY", "Yuan Renminbi", 2),
    ("CYP", "Cyprus Pound", 2),
    ("CZK", "Czech Koruna", 2),
    ("DKK", "Danish Krone", 2),
    ("EEK", "Kroon", 2),
    ("EUR", "Euro", 2),
    ("GBP", "Pound Sterling", 2),
    ("HKD", "Hong Kong Dollar", 2),
    ("HRK", "Kuna", 2),
    ("HUF", "Forint", 2),
    ("IDR", "Rupiah", 2),
    ("ILS", "New Israeli Sheqel", 2),
    ("INR", "Indian Rupee", 2),
    ("ISK", "Iceland Krona", 0),
    ("JPY", "Yen", 0),
    ("KRW", "Won", 0),
    ("KWD", "Kuwaiti Dinar", 3),
    ("LTL", "Lithuanian Litas", 2),
    ("LVL", "Latvian Lats", 2),
    ("MTL", "Maltese Lira", 2),
    ("MXN", "Mexican Peso", 2),
    ("MYR", "Malaysian Ringgit", 2),
    ("NOK", "Norwegian Krone", 2),
    ("NZD", "New Zealand Dollar", 2),
    ("PHP", "Philippine Peso", 2),
    ("PLN", "Zloty", 2),
    ("ROL", "Romanian Leu (1952-2005)", 2),
    ("RON", "Romanian Leu", 2),
    ("RUB", "Russian Ruble", 2),
    ("SEK", "Swedish Krona", 2),
    ("SGD", "Singapore Dollar", 2),
    ("SIT", "Tolar", 2),
    ("SKK", "Slovak Koruna", 2),
    ("THB", "Baht", 2),
    ("TRL", "Turkish Lira (1922-2005)", 0),
    ("TRY", "Turkish Lira", 2),
    ("USD", "US Dollar", 2),
    ("ZAR", "Rand", 2),
]

currencies = sa.table(
    "currencies", sa.column("code", sa.String), sa.column("name", sa.String), sa.column("minor_units", sa.Integer)
)


def upgrade() -> None:
    op.bulk_insert(currencies, [dict(code=c, name=n, minor_units=m) for c, n, m in CURRENCIES])


def downgrade() -> None:
    op.execute(currencies.delete().where(currencies.c.code.in_([c for c, _, _ in CURRENCIES])))
