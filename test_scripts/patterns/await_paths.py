"""One await, two paths: a rate source that answers at once, and one that really suspends.

C# async code coverage taught that an await which completes synchronously takes a different path
from one that suspends, and that tests must force the second (`Task.Yield`). In Python an awaited
coroutine that never suspends runs straight through; one that does suspends this frame too, and
it is resumed later from the event loop.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Protocol

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")


class RateSource(Protocol):
    async def rate(self, base: str, quote: str) -> Decimal: ...


async def convert(amount: Decimal, *, base: str, quote: str, rates: RateSource) -> Decimal:
    if base == quote:
        return amount
    rate = await rates.rate(base, quote)
    converted = (amount * rate).quantize(CENT)
    logger.info("%s %s = %s %s", amount, base, converted, quote)
    return converted
