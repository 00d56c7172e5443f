"""The same `convert` awaited through a source that answers at once and one that suspends.

We step the coroutine by hand to show which path each source takes, then await it on the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

import pytest

from test_scripts.patterns.await_paths import convert


class ImmediateRates:
    async def rate(self, base: str, quote: str) -> Decimal:
        return Decimal("1.1172")


class SuspendingRates:
    async def rate(self, base: str, quote: str) -> Decimal:
        await asyncio.sleep(0)  # a real suspension, as C# tests force one with Task.Yield
        return Decimal("1.1172")


def step(coroutine: Coroutine[Any, Any, Decimal]) -> tuple[int, Decimal]:
    """Run `coroutine` to the end without a loop; return how often it suspended, and its result."""
    suspensions = 0
    while True:
        try:
            coroutine.send(None)
        except StopIteration as done:
            return suspensions, done.value
        suspensions += 1


def test_convert_immediate_source_never_suspends() -> None:
    assert step(convert(Decimal("10"), base="EUR", quote="USD", rates=ImmediateRates())) == (0, Decimal("11.17"))


def test_convert_suspending_source_suspends_once() -> None:
    assert step(convert(Decimal("10"), base="EUR", quote="USD", rates=SuspendingRates())) == (1, Decimal("11.17"))


@pytest.mark.parametrize("rates", [ImmediateRates(), SuspendingRates()], ids=["immediate", "suspending"])
async def test_convert_on_the_loop_gives_the_same_amount(rates: ImmediateRates | SuspendingRates) -> None:
    assert await convert(Decimal("250"), base="EUR", quote="USD", rates=rates) == Decimal("279.30")


async def test_convert_same_currency_needs_no_rate() -> None:
    class NoRates:
        async def rate(self, base: str, quote: str) -> Decimal:
            raise AssertionError("no rate is needed to convert EUR to EUR")

    assert await convert(Decimal("5"), base="EUR", quote="EUR", rates=NoRates()) == Decimal("5")
