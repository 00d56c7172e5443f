"""A small closed-loop load generator for the API: N clients, each sending its next request as soon
as the previous one is answered, until a fixed number of requests has been sent.

The load tests (`test_scripts/test_api/test_load.py`) and `./test_runner.py bench` share it:

    result = await run_load(url, [RequestSpec("GET", "/health")], concurrency=20, total=2_000)
    print(format_result(result, label="health"))

Requests are sent in the order given, round-robin, so a mix of specs keeps its proportions.
A request counts as an error when its status is not the one its spec expects ("503"), when its
spec names the JSON it must answer and the body differs ("wrong body"), or when it gets no
response at all (refused, reset, timed out), counted by the exception's class name ("ReadTimeout").
Latencies are wall-clock seconds from sending to having read the whole body, so they include the
time a request waited for a free connection of the client; run the generator in a process that
does little else, and read its figures as an upper bound.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

__all__ = ["WRONG_BODY", "LoadResult", "RequestSpec", "format_result", "percentile", "run_load"]

WRONG_BODY = "wrong body"


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One request the generator sends, and what counts as success: the status `expect`, and,
    when `expect_json` is given, a body equal to it (decoding costs the client time, so a
    benchmark leaves it out)."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    json: Any = None
    headers: Mapping[str, str] | None = None
    expect: int = 200
    expect_json: Any = None


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a run measured. Latencies are in seconds; `errors` maps what went wrong ("503",
    "wrong body", "ReadTimeout") to how many requests it happened to."""

    count: int
    concurrency: int
    elapsed: float
    statuses: Mapping[int, int]
    errors: Mapping[str, int]
    p50: float
    p90: float
    p99: float
    max: float
    latencies: Sequence[float] = field(repr=False)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def server_errors(self) -> int:
        """Responses with a 5xx status."""
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def requests_per_second(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else math.inf


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values: the smallest value that at least
    `fraction` of all values are less than or equal to (no interpolation, so it is a value that
    was really measured)."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    return sorted_values[max(math.ceil(fraction * len(sorted_values)), 1) - 1]


def _body_is(response: httpx.Response, expected: Any) -> bool:
    try:
        return bool(response.json() == expected)
    except ValueError:  # not JSON at all
        return False


async def run_load(
    base_url: str,
    requests: Sequence[RequestSpec],
    *,
    concurrency: int,
    total: int,
    timeout: float = 30.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadResult:
    """Send `total` requests to `base_url`, cycling through `requests`, from `concurrency` clients.

    The clients share one connection pool of `concurrency` keep-alive connections. `transport`
    replaces the network (an `httpx.ASGITransport` measures the app in process, without HTTP).
    """
    import httpx  # the runner imports this module before the venv's packages are on the path

    if not requests:
        raise ValueError("run_load needs at least one RequestSpec")
    if concurrency < 1 or total < 1:
        raise ValueError(f"concurrency and total must be at least 1, got {concurrency} and {total}")
    concurrency = min(concurrency, total)
    specs: Iterator[RequestSpec] = itertools.islice(itertools.cycle(requests), total)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def client_loop(client: httpx.AsyncClient) -> None:
        # One shared iterator: each client takes the next spec, so `total` is exact however the
        # clients interleave (there is no await between taking a spec and checking for the end).
        for spec in specs:
            started = time.perf_counter()
            try:
                response = await client.request(
                    spec.method, spec.path, params=spec.params, json=spec.json, headers=spec.headers
                )
            except httpx.TransportError as exc:
                errors[type(exc).__name__] += 1
                latencies.append(time.perf_counter() - started)
                continue
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] += 1
            if response.status_code != spec.expect:
                errors[str(response.status_code)] += 1
            elif spec.expect_json is not None and not _body_is(response, spec.expect_json):
                errors[WRONG_BODY] += 1

    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits, transport=transport) as client:
        started = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(client_loop(client))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return LoadResult(
        count=len(ordered),
        concurrency=concurrency,
        elapsed=elapsed,
        statuses=dict(sorted(statuses.items())),
        errors=dict(sorted(errors.items())),
        p50=percentile(ordered, 0.50),
        p90=percentile(ordered, 0.90),
        p99=percentile(ordered, 0.99),
        max=ordered[-1],
        latencies=ordered,
    )


def format_result(result: LoadResult, *, label: str) -> str:
    """One line for people: what ran, how fast, how many failed and how."""
    errors = ", ".join(f"{what}: {n}" for what, n in result.errors.items()) or "none"
    ms = {name: getattr(result, name) * 1000 for name in ("p50", "p90", "p99", "max")}
    return (
        f"{label}: {result.count} requests, {result.concurrency} clients, {result.elapsed:.2f} s, "
        f"{result.requests_per_second:.0f} req/s; latency ms p50 {ms['p50']:.1f} p90 {ms['p90']:.1f} "
        f"p99 {ms['p99']:.1f} max {ms['max']:.1f}; errors {result.error_count} ({errors})"
    )
