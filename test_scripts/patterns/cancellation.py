"""Cancellation: a poller task stopped by cancelling it and awaiting it, CancelledError caught.

On Python 3.11 a frame resumed to receive a thrown exception gets no `call` trace event (CPython
issue 106749), so tracers lose the lines after `await cancel_and_wait(...)` (coveragepy issue 2124).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


class Poller:
    """Call `refresh` every `interval` seconds in a task of its own, from `start()` until `stop()`."""

    def __init__(self, refresh: Callable[[], Awaitable[None]], *, interval: float) -> None:
        self._refresh = refresh
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.polls = 0

    @property
    def running(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            await self._refresh()
            self.polls += 1
            await asyncio.sleep(self._interval)

    async def stop(self) -> None:
        if self._task is None:
            return
        await cancel_and_wait(self._task)
        self._task = None
        logger.info("poller stopped after %d polls", self.polls)
