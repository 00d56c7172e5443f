"""Section `load`: the bundled ECB history (221,702 rates) into an empty database.

What `./test_runner.py serve` does on its first start (`app.cli.load_ecb_history`: read the zip,
check the currencies, write through `services.fx.write_rates`), timed from the call to its
return, into a database that is migrated and empty. SQLite in a fresh file; PostgreSQL in a
database we create and drop for each round. The migration is not part of the figure.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from test_scripts.bench.scenario import bench_settings, scratch_database
from test_scripts.bench.stats import summarize

TARGET_S = 10.0
DATABASES = ("sqlite", "postgres")


def measure(*, postgres_url: str | None, rounds: int) -> dict[str, Any]:
    """Per database kind: the load's wall time over `rounds` fresh databases, and the rates it wrote.

    `postgres_url` None: PostgreSQL is not reachable, and its entry says so instead of a figure.
    """
    return asyncio.run(_measure(postgres_url=postgres_url, rounds=rounds))


async def _measure(*, postgres_url: str | None, rounds: int) -> dict[str, Any]:
    from app.cli import load_ecb_history  # the progress bar's rich import is the app's own

    results: dict[str, Any] = {}
    for kind in DATABASES:
        if kind == "postgres" and postgres_url is None:
            results[kind] = {"skipped": "PostgreSQL is not reachable"}
            continue
        seconds, inserted = [], None
        for _ in range(rounds):
            async with scratch_database(kind, postgres_url=postgres_url or "") as url:
                begin = time.perf_counter()
                result = await load_ecb_history(bench_settings(url), show_progress=False)
                seconds.append(time.perf_counter() - begin)
                inserted = result.inserted
        results[kind] = {"seconds": summarize(seconds).as_dict(2), "inserted": inserted}
    return results
