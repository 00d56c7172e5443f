"""The benchmark's outputs: the targets checked, `reports/bench.json`, and the tables on the terminal."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from test_scripts.bench import compare_cost, history, overhead, throughput

SCHEMA = 1
VERSIONED = ("coverage", "slipcover", "SQLAlchemy", "pytest", "pytest-cov", "pytest-xdist", "uvicorn", "fastapi", "httpx")


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "system": f"{platform.system()} {platform.release()}",
        "load_average_at_start": [round(value, 2) for value in load] if load else None,
    }


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def check_targets(sections: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target of the issue that the sections measured: met (True/False) or unknown (None)."""
    targets: list[dict[str, Any]] = []
    for result in sections.get("overhead", {}).get("pythons", []):
        short = ".".join(result["python"].split(".")[:2])
        for kind in ("line", "branch"):
            best = result["fastest_exact"][kind]
            name = f"exact {kind} coverage on {short}"
            wanted = f"<= {overhead.TARGET_RATIO:.2f}x no coverage"
            if best is None:
                why = "no exactness known: run compare on it" if not result["exactness_from"] else "no exact configuration"
                targets.append({"name": name, "target": wanted, "measured": why, "met": None})
            else:
                targets.append({"name": name, "target": wanted, "measured": f"{best['name']} {best['ratio']:.2f}x",
                                "met": best["ratio"] <= overhead.TARGET_RATIO})  # fmt: skip
    cost = sections.get("compare")
    if cost:
        ratio, floor = cost["ratio"]["median"], cost["floor_ratio"]["median"]
        targets.append({"name": f"compare over {len(cost['configs'])} configurations",
                        "target": f"<= {compare_cost.TARGET_RATIO:.0f}x one plain run",
                        "measured": f"{ratio:.2f}x (its runs alone: {floor:.2f}x on {cost['jobs']} cores)",
                        "met": ratio <= compare_cost.TARGET_RATIO})  # fmt: skip
    endpoints = sections.get("throughput", {}).get("endpoints")
    if endpoints:
        convert = endpoints["convert"]
        by_cpu = convert.get("of_trivial_by_cpu")
        # The target is on requests per second, as the issue states it. When the load generator
        # saturates first, that ratio flatters the app; the server's CPU per request does not,
        # so it is printed beside it.
        measured = f"{convert['of_trivial']:.0%} by req/s" + (f" ({by_cpu:.0%} by server CPU)" if by_cpu else "")
        targets.append({"name": "convert throughput", "target": f">= {throughput.CONVERT_TARGET:.0%} of the trivial endpoint",
                        "measured": measured, "met": convert["of_trivial"] >= throughput.CONVERT_TARGET})  # fmt: skip
    for kind, entry in sections.get("load", {}).items():
        name = f"ECB history load, {kind}"
        wanted = f"<= {history.TARGET_S:.0f} s"
        if "skipped" in entry:
            targets.append({"name": name, "target": wanted, "measured": entry["skipped"], "met": None})
        else:
            seconds = entry["seconds"]["median"]
            targets.append({"name": name, "target": wanted, "measured": f"{seconds:.1f} s", "met": seconds <= history.TARGET_S})
    return targets


def build(
    *, command: str, options: Mapping[str, Any], sections: Mapping[str, Any], started: datetime, elapsed_s: float,
    machine_info: Mapping[str, Any], version_info: Mapping[str, Any],
) -> dict[str, Any]:  # fmt: skip
    return {
        "schema": SCHEMA,
        "date": started.astimezone(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": dict(machine_info),
        "versions": dict(version_info),
        "options": dict(options),
        "note": "wall times on a machine that may be shared: ratios of runs taken side by side are what counts",
        "sections": dict(sections),
        "targets": check_targets(sections),
        "elapsed_s": round(elapsed_s, 1),
    }


def write(result: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


# --- the terminal ------------------------------------------------------------------------------


def _range(entry: Mapping[str, Any], unit: str = "", digits: int = 2) -> str:
    return f"{entry['median']:.{digits}f}{unit} ({entry['min']:.{digits}f}-{entry['max']:.{digits}f})"


def print_result(result: Mapping[str, Any], file: TextIO | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file, width=140 if file is not None else None)
    info = result["machine"]
    console.print(
        f"[bold]bench[/bold] {result['date']}: {info['cores']} cores, {info['cpu']}, Python {result['versions']['python']}, "
        f"coverage {result['versions']['coverage']}, slipcover {result['versions']['slipcover']}, "
        f"SQLAlchemy {result['versions']['SQLAlchemy']}; load average at start {info['load_average_at_start']}"
    )
    sections = result["sections"]
    for python in sections.get("overhead", {}).get("pythons", []):
        table = Table(title=f"coverage overhead, {python['suite']}, Python {python['python']} "
                            f"(median (min-max) of {sections['overhead']['rounds']} interleaved rounds)")  # fmt: skip
        for column in ("configuration", "wall s", "ratio to plain", "exact (compare)"):
            table.add_column(column)
        for name, entry in python["configs"].items():
            exact = {True: "yes", False: "no", None: "unknown"}[entry.get("exact")] if name != overhead.PLAIN else ""
            ratio = _range(entry["ratio"], "x") if "ratio" in entry else "1"
            table.add_row(name, _range(entry["wall_s"], digits=1), ratio, exact)
        console.print(table)
    cost = sections.get("compare")
    if cost:
        table = Table(title=f"compare over {len(cost['configs'])} configurations ({', '.join(cost['configs'])}), "
                            f"{cost['suite']}, Python {cost['python']}, {cost['jobs']} at a time, "
                            f"median (min-max) of {cost['rounds']} rounds")  # fmt: skip
        for column in ("measure", "seconds or ratio"):
            table.add_column(column)
        table.add_row("plain run, s", _range(cost["wall_s"]["plain"], digits=1))
        table.add_row("compare, s", _range(cost["wall_s"]["compare"], digits=1))
        table.add_row("compare / plain", _range(cost["ratio"], "x"))
        table.add_row("its runs' wall times added, s", _range(cost["runs_wall_s"], digits=1))
        table.add_row(f"that sum / {cost['jobs']} cores / plain", _range(cost["floor_ratio"], "x"))
        console.print(table)
    server = sections.get("server")
    if server:
        table = Table(title=f"threaded test server ({server['db']}); latency: {server['requests_per_path']} "
                            "sequential requests per path, median (min-max), ms")  # fmt: skip
        for column in ("measure", "threaded (HTTP)", "asgi (in process)", "ratio"):
            table.add_column(column)
        table.add_row("start-up to ready, s", _range(server["startup_s"], digits=3), "", "")
        table.add_row("shutdown, s", _range(server["shutdown_s"], digits=3), "", "")
        for name, ratio in server["latency_ratio"].items():
            table.add_row(f"GET {name}", _range(server["latency_ms"]["threaded"][name]),
                          _range(server["latency_ms"]["asgi"][name]), f"{ratio:.1f}x")  # fmt: skip
        reset = server["reset_ms"]
        table.add_row(f"per-test reset, ms ({server['resets']}): shared engine", _range(reset["shared_engine"]), "", "")
        table.add_row("per-test reset, ms: new engine and loop", _range(reset["new_engine_and_loop"]), "", "")
        console.print(table)
    xdist = sections.get("xdist")
    if xdist:
        table = Table(title=f"pytest-xdist with coverage, {xdist['suite']} ({xdist['db']}), seconds")
        for column in ("measure", "median (min-max)"):
            table.add_column(column)
        for name, entry in xdist["wall_s"].items():
            table.add_row(f"wall {name}", _range(entry, digits=1))
        table.add_row("-n 2 / -n 1", _range(xdist["ratio_n2_to_n1"], "x"))
        for name, entry in xdist["combine_s"].items():
            table.add_row(f"combine in {name}", _range(entry, digits=3))
        for name, entry in xdist["report_s"].items():
            table.add_row(f"{name} report", _range(entry, digits=3))
        console.print(table)
    tp = sections.get("throughput")
    if tp:
        table = Table(title=f"throughput on the real server ({tp['db']}, {tp['concurrency']} clients, loopback)")
        for column in ("endpoint", "req/s", "p50 ms", "of trivial (req/s)", "server CPU ms/req", "of trivial (CPU)"):
            table.add_column(column)
        for name, entry in tp["endpoints"].items():
            cpu = entry["server_cpu_ms_per_request"]
            table.add_row(name, _range(entry["rps"], digits=0), _range(entry["p50_ms"], digits=1),
                          f"{entry['of_trivial']:.0%}", _range(cpu, digits=2) if cpu else "n/a",
                          f"{entry['of_trivial_by_cpu']:.0%}" if entry["of_trivial_by_cpu"] else "n/a")  # fmt: skip
        console.print(table)
    load = sections.get("load")
    if load:
        table = Table(title="ECB history (221,702 rates) into an empty database")
        for column in ("database", "seconds", "rates written"):
            table.add_column(column)
        for kind, entry in load.items():
            if "skipped" in entry:
                table.add_row(kind, entry["skipped"], "")
            else:
                table.add_row(kind, _range(entry["seconds"], digits=2), f"{entry['inserted']:,}")
        console.print(table)
    _print_targets(console, result["targets"])


def _print_targets(console: Any, targets: Sequence[Mapping[str, Any]]) -> None:
    from rich.table import Table

    if not targets:
        return
    table = Table(title="targets")
    for column in ("target", "wanted", "measured", ""):
        table.add_column(column)
    for target in targets:
        status = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "[yellow]unknown[/yellow]"}[target["met"]]
        table.add_row(target["name"], target["target"], target["measured"], status)
    console.print(table)
