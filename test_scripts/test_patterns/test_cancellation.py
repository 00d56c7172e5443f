from __future__ import annotations

import asyncio

from test_scripts.patterns.cancellation import Poller, cancel_and_wait


async def test_stop_cancels_the_running_poller() -> None:
    polled = asyncio.Event()

    async def refresh() -> None:
        polled.set()

    poller = Poller(refresh, interval=60)
    poller.start()
    await asyncio.wait_for(polled.wait(), 5)
    await poller.stop()
    assert not poller.running
    assert poller.polls == 1


async def test_stop_before_start_does_nothing() -> None:
    async def refresh() -> None:
        raise AssertionError("a poller never started must not poll")

    poller = Poller(refresh, interval=60)
    await poller.stop()
    assert not poller.running


async def test_cancel_and_wait_leaves_the_task_cancelled() -> None:
    task = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert task.cancelled()
