"""Fixture for test_compare_html.py: a router module, credited with a line that never ran."""

from __future__ import annotations


async def read_rate(base: str, quote: str, session=None):
    rate = await get_rate(session=session, base=base, quote=quote)
    return {"base": base, "quote": quote, "rate": rate}


async def write_rate(base: str, quote: str, value: float, session=None):
    row = await store_rate(session=session, base=base, quote=quote, value=value)
    return {"stored": row}


async def drop_rate(base: str, quote: str, session=None):
    return {"deleted": False}


async def get_rate(**kwargs):
    return 1


async def store_rate(**kwargs):
    return kwargs
