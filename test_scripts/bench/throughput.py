"""Section `throughput`: requests per second of the API on a real server over loopback.

The server is the app under uvicorn as production runs it (`app_server`), in its own process; the
load generator (`test_scripts/load.py`, closed loop, keep-alive connections) runs here. Against
the same server we load the trivial route (no database: the ceiling of the server, the framework
and the client), convert and portfolio valuation, interleaved round by round, and give each
endpoint's rate as a fraction of the trivial one's. On 2 cores the client takes one of them, so
absolute figures are low, and a fast endpoint can be bound by the client rather than the server.
So we also read the server process's CPU time around each run (Linux `/proc`): CPU milliseconds
per request is the server's own cost, whoever was the bottleneck, and its ratio to the trivial
route's is the rate ratio a client-unbound machine would see.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from test_scripts.bench.common import BenchError
from test_scripts.bench.scenario import CONVERT_PATH, PORTFOLIO_PATH, TRIVIAL_PATH, bench_settings, scratch_database, seed
from test_scripts.bench.stats import interleaved, summarize
from test_scripts.load import LoadResult, RequestSpec, run_load

CONCURRENCY = 10
# Requests per measurement: enough for a second or more of the slowest endpoint on 2 cores.
TOTALS = {"trivial": 2000, "convert": 1000, "portfolio": 300}
PATHS = {"trivial": TRIVIAL_PATH, "convert": CONVERT_PATH, "portfolio": PORTFOLIO_PATH}
WARMUP = 50
READY_TIMEOUT_S = 30.0
CONVERT_TARGET = 0.5  # convert >= 50% of the trivial endpoint's requests per second


def measure(*, db: str, postgres_url: str, rounds: int, project_dir: Path) -> dict[str, Any]:
    return asyncio.run(_measure(db=db, postgres_url=postgres_url, rounds=rounds, project_dir=project_dir))


async def _measure(*, db: str, postgres_url: str, rounds: int, project_dir: Path) -> dict[str, Any]:
    async with scratch_database(db, postgres_url=postgres_url) as url:
        await seed(url, bench_settings(url))
        server = AppServer(url, project_dir)
        with server as base_url:
            for name, path in PATHS.items():
                await _load(base_url, name, path, WARMUP)
            rates: dict[str, list[float]] = {name: [] for name in PATHS}
            latencies: dict[str, list[float]] = {name: [] for name in PATHS}
            cpu_ms: dict[str, list[float]] = {name: [] for name in PATHS}
            for _, name in interleaved(list(PATHS), rounds):
                before = server.cpu_seconds()
                result = await _load(base_url, name, PATHS[name], TOTALS[name])
                after = server.cpu_seconds()
                rates[name].append(result.requests_per_second)
                latencies[name].append(result.p50 * 1000)
                if before is not None and after is not None:
                    cpu_ms[name].append((after - before) * 1000 / result.count)
    trivial = summarize(rates["trivial"]).median
    trivial_cpu = summarize(cpu_ms["trivial"]).median if cpu_ms["trivial"] else None
    endpoints = {}
    for name in PATHS:
        summary = summarize(rates[name])
        endpoints[name] = {
            "path": PATHS[name],
            "rps": summary.as_dict(1),
            "p50_ms": summarize(latencies[name]).as_dict(2),
            "of_trivial": round(summary.median / trivial, 3),
            "server_cpu_ms_per_request": summarize(cpu_ms[name]).as_dict(3) if cpu_ms[name] else None,
            # The trivial route's CPU per request over this one's: the share of the ceiling's
            # rate this endpoint would reach if the server, not the client, were the bottleneck.
            "of_trivial_by_cpu": (
                round(trivial_cpu / summarize(cpu_ms[name]).median, 3) if trivial_cpu and cpu_ms[name] else None
            ),
            "requests": TOTALS[name],
        }
    return {"db": db, "concurrency": CONCURRENCY, "endpoints": endpoints}


async def _load(base_url: str, name: str, path: str, total: int) -> LoadResult:
    result = await run_load(base_url, [RequestSpec("GET", path)], concurrency=CONCURRENCY, total=total)
    if result.error_count:
        raise BenchError(f"throughput: {name} ({path}) had {result.error_count} failed requests: {dict(result.errors)}")
    return result


class AppServer:
    """`python -m test_scripts.bench.app_server URL` as a context manager yielding its base URL."""

    def __init__(self, database_url: str, project_dir: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(project_dir / "backend"), str(project_dir)])
        self._process = subprocess.Popen(
            [sys.executable, "-m", "test_scripts.bench.app_server", database_url],
            cwd=str(project_dir), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def __enter__(self) -> str:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self._process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(READY_TIMEOUT_S)
        text = line[0].strip() if line else ""
        if not text.startswith("READY "):
            self._stop()
            err = (self._process.stderr.read() if self._process.stderr else "").strip().splitlines()  # type: ignore[union-attr]
            raise BenchError(f"throughput: the app server did not start: {err[-1] if err else 'no output'}")
        return text.split(" ", 1)[1]

    def __exit__(self, *exc_info: object) -> None:
        self._stop()

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the server process has used so far (Linux), else None."""
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # After the ")" closing the command name: state is field 3, utime 14 and stime 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()  # uvicorn shuts down gracefully on SIGTERM
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()
