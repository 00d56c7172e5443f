"""App code that switches greenlets itself: drain a producer running in a greenlet of its own.

A sync producer hands items over one switch at a time, the way SQLAlchemy's asyncio layer hands
work between greenlets. The producer is library code (not measured); the lines here that run while
it is alive, and after it has finished, are the ones a per-thread tracer stack loses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import greenlet

logger = logging.getLogger(__name__)

# The producer is called with the greenlet to switch its items to, and returns when it is done.
Producer = Callable[[greenlet.greenlet], None]


@dataclass(frozen=True)
class Batch:
    items: list[int]
    total: int


def drain(producer: Producer, *, limit: int) -> Batch:
    worker = greenlet.greenlet(producer)
    item = worker.switch(greenlet.getcurrent())
    items = []
    while not worker.dead and len(items) < limit:
        items.append(item)
        item = worker.switch()
    total = sum(items)
    logger.info("drained %d items", len(items))
    return Batch(items=items, total=total)
