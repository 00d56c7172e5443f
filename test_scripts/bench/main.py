"""`./test_runner.py bench`: the sections in order, then `reports/bench.json` and the tables.

The runner (`test_scripts/runner/bench.py`) checks the command line with the standard library and
hands us a `BenchJob`; we run in the project's venv, with `backend/` importable as `app`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from test_scripts.bench import report
from test_scripts.compare import configs as compare_configs
from test_scripts.compare.pythons import Python
from test_scripts.runner.base import relative

SECTIONS = ("overhead", "compare", "server", "xdist", "throughput", "load")


def run(
    *,
    sections: tuple[str, ...],
    rounds: int,
    db: str,
    postgres_url: str | None,
    pythons: tuple[Python, ...],
    command: str,
    project_dir: Path,
    say: Callable[[str], None],
    reports_dir: Path | None = None,
    environ: Mapping[str, str] = os.environ,
    out: TextIO | None = None,
    config_names: str | None = None,
) -> dict[str, Any]:
    """Measure `sections` (in SECTIONS' order), write bench.json in `reports_dir` (default: the
    project's reports/), print the tables; return what was written.

    `postgres_url` is None when PostgreSQL does not answer (then `db` is sqlite, and the load
    section says PostgreSQL was skipped).
    """
    reports_dir = reports_dir or project_dir / "reports"
    work = reports_dir / "bench"
    started, begin = datetime.now(timezone.utc), time.perf_counter()
    machine_info = report.machine()
    db_env = {"TEST_DATABASE_URL": postgres_url} if db == "postgres" and postgres_url else {}
    results: dict[str, Any] = {}
    for name in (section for section in SECTIONS if section in sections):
        say(f"bench: {name} ...")
        section_begin = time.perf_counter()
        if name == "overhead":
            from test_scripts.bench import overhead

            results[name] = overhead.measure(pythons=pythons, db=db, db_env=db_env, rounds=rounds,
                                             project_dir=project_dir, reports_dir=project_dir / "reports", work=work / "overhead",
                                             environ=environ, say=say, config_names=config_names)  # fmt: skip
        elif name == "compare":
            from test_scripts.bench import compare_cost
            from test_scripts.bench.overhead import api_suite

            here = Python("%d.%d.%d" % sys.version_info[:3], sys.executable)
            results[name] = compare_cost.measure(python=here, suite=api_suite(project_dir, db, db_env), rounds=rounds,
                                                 work=work / "compare", environ=environ, say=say,
                                                 jobs=compare_configs.default_jobs(db))  # fmt: skip
        elif name == "server":
            from test_scripts.bench import server

            results[name] = server.measure(db=db, postgres_url=postgres_url or "", rounds=rounds)
        elif name == "xdist":
            from test_scripts.bench import xdist

            results[name] = xdist.measure(db=db, environ=environ, db_env=db_env, rounds=rounds,
                                          project_dir=project_dir, work=work / "xdist", say=say)  # fmt: skip
        elif name == "throughput":
            from test_scripts.bench import throughput

            results[name] = throughput.measure(db=db, postgres_url=postgres_url or "", rounds=rounds,
                                               project_dir=project_dir)  # fmt: skip
        else:
            from test_scripts.bench import history

            results[name] = history.measure(postgres_url=postgres_url, rounds=rounds)
        say(f"bench: {name} done in {time.perf_counter() - section_begin:.1f} s")
    result = report.build(
        command=command,
        options={"sections": [s for s in SECTIONS if s in sections], "rounds": rounds, "db": db,
                 "pythons": [python.version for python in pythons]},
        sections=results,
        started=started,
        elapsed_s=time.perf_counter() - begin,
        machine_info=machine_info,
        version_info=report.versions(),
    )  # fmt: skip
    path = reports_dir / "bench.json"
    report.write(result, path)
    report.print_result(result, file=out)
    say(f"bench: written {relative(path)}")
    return result

