"""Fixture for test_compare_html.py: a service whose lines after awaits a tracer can lose.

Not imported by anything: only its text and line numbers matter. Line 33 carries markup and an
ampersand, which the page must escape.
"""

from __future__ import annotations

import logging
from datetime import date

logger = logging.getLogger(__name__)


class RateNotFound(Exception):
    pass


async def get_rate(*, session, base: str, quote: str, on: date):
    if base == quote:
        return 1
    rate = await session.scalar(base, quote, on)
    if rate is None:
        raise RateNotFound(base)
    return rate


async def store_rate(*, session, base: str, quote: str, on: date, value: float):
    row = {"base": base, "quote": quote, "on": on, "value": value}
    session.add(row)
    await session.commit()
    await session.refresh(row)
    logger.info("stored <script>alert('%s & %s')</script>", base, quote)
    return row


def convert(amount: float, rate: float) -> float:
    return round(amount * rate, 2)


def describe(base: str, quote: str) -> str:
    return f"{base}/{quote}"


def unused_helper(values):
    total = 0
    for value in values:
        total += value
    return total


async def delete_rate(*, session, row):
    await session.delete(row)
    await session.commit()
    logger.info("deleted %s", row)
    return True


async def count_rates(*, session) -> int:
    result = await session.scalar("count")
    return result or 0
