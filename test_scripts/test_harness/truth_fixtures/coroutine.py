"""A coroutine that is suspended and resumed: lines after the await must be seen."""

import asyncio  # ran


async def fetch():  # ran
    before = 1  # ran
    await asyncio.sleep(0)  # ran
    after = before + 1  # ran
    await asyncio.sleep(0)  # ran
    if after > 5:  # ran
        after = 0  # not run
    return after  # ran


async def main():  # ran
    first, second = await asyncio.gather(fetch(), fetch())  # ran
    return first + second  # ran


def run():  # ran
    return asyncio.run(main())  # ran
