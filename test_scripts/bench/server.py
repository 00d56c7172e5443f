"""Section `server`: what the threaded test server costs a test session.

* start-up (bind, thread, uvicorn, the app's lifespan, until it accepts requests) and shutdown
  (lifespan shutdown, engine disposed, thread joined), each repeated;
* per-request latency of the same requests over real HTTP to that server and in process through
  httpx's ASGITransport, one request at a time, for the trivial route and for convert;
* the per-test database reset (`databases.empty_tables`) on the engine the session shares, and
  on a new engine each time, in an event loop of its own, which is what the suite paid while its
  tests ran in function-scoped event loops.

Everything runs in this process, like the suite's fixtures: this is the cost the tests pay.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx

from app.db.engine import create_engine
from test_scripts.bench.common import BenchError
from test_scripts.bench.scenario import CONVERT_PATH, TRIVIAL_PATH, bench_app, bench_settings, scratch_database, seed
from test_scripts.bench.stats import summarize
from test_scripts.databases import empty_tables
from test_scripts.load import percentile
from test_scripts.test_server_helper import ThreadedServer, in_process_client, running_server

STARTS_PER_ROUND = 5
RESETS_PER_ROUND = 50
REQUESTS_PER_ROUND = 100
WARMUP_REQUESTS = 10
PATHS = {"trivial": TRIVIAL_PATH, "convert": CONVERT_PATH}


def measure(*, db: str, postgres_url: str, rounds: int) -> dict[str, Any]:
    return asyncio.run(_measure(db=db, postgres_url=postgres_url, rounds=rounds))


async def _measure(*, db: str, postgres_url: str, rounds: int) -> dict[str, Any]:
    async with scratch_database(db, postgres_url=postgres_url) as url:
        settings = bench_settings(url)
        await seed(url, settings)
        app = bench_app(settings)
        # The server has its own thread and loop; we wait for it in a worker thread so this loop
        # stays free, as pytest's own loop does while a fixture starts the server.
        startup, shutdown = await asyncio.to_thread(_start_stop, app, STARTS_PER_ROUND * rounds)
        count = REQUESTS_PER_ROUND * rounds
        with running_server(app) as base_url:
            threaded = await _latencies(lambda: httpx.AsyncClient(base_url=base_url, timeout=30), count)
        asgi = await _latencies(lambda: in_process_client(app, timeout=30), count)
        resets = RESETS_PER_ROUND * rounds
        shared = await _shared_engine_resets(url, resets)
        fresh = await asyncio.to_thread(_new_engine_resets, url, resets)
    return {
        "db": db,
        "startup_s": summarize(startup).as_dict(),
        "shutdown_s": summarize(shutdown).as_dict(),
        "latency_ms": {"threaded": threaded, "asgi": asgi},
        "latency_ratio": {
            name: round(threaded[name]["median"] / asgi[name]["median"], 2) for name in PATHS
        },
        "requests_per_path": count,
        "reset_ms": {"shared_engine": summarize(shared).as_dict(3), "new_engine_and_loop": summarize(fresh).as_dict(3)},
        "resets": resets,
    }


async def _shared_engine_resets(url: str, times: int) -> list[float]:
    engine = create_engine(url)
    try:
        await empty_tables(engine)  # the pool's first connection, made once per session
        samples = []
        for _ in range(times):
            begin = time.perf_counter()
            await empty_tables(engine)
            samples.append((time.perf_counter() - begin) * 1000)
        return samples
    finally:
        await engine.dispose()


def _new_engine_resets(url: str, times: int) -> list[float]:
    async def one() -> float:
        begin = time.perf_counter()
        engine = create_engine(url)
        await empty_tables(engine)
        await engine.dispose()
        return (time.perf_counter() - begin) * 1000

    return [asyncio.run(one()) for _ in range(times)]


def _start_stop(app: Any, times: int) -> tuple[list[float], list[float]]:
    startup, shutdown = [], []
    for _ in range(times):
        server = ThreadedServer(app)
        begin = time.perf_counter()
        server.start()
        ready = time.perf_counter()
        server.stop()
        startup.append(ready - begin)
        shutdown.append(time.perf_counter() - ready)
    return startup, shutdown


async def _latencies(
    client: Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]], count: int
) -> dict[str, dict[str, float]]:
    """Per path: the median, p90 and range of `count` sequential requests, in milliseconds."""
    figures = {}
    async with client() as http:
        for name, path in PATHS.items():
            for _ in range(WARMUP_REQUESTS):
                await _get(http, path)
            samples = []
            for _ in range(count):
                begin = time.perf_counter()
                await _get(http, path)
                samples.append((time.perf_counter() - begin) * 1000)
            summary = summarize(samples)
            figures[name] = {**summary.as_dict(3), "p90": round(percentile(sorted(samples), 0.9), 3)}
    return figures


async def _get(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path)
    if response.status_code != 200:
        raise BenchError(f"GET {path} answered {response.status_code}: {response.text[:200]}")
