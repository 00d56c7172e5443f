"""Section `xdist`: the API suite with coverage on one worker and on two, and what coverage adds after.

Each round runs `-n 1` then `-n 2` (pytest-xdist) with the project's rc file, pytest-cov
combining the workers' data as `--coverage` does, but writing no report. `combine_probe` times
the combine inside those runs; the reports (term-missing, HTML, XML, JSON) are then timed here,
one by one, on the `-n 2` run's combined data.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from test_scripts.bench.combine_probe import ENV_VAR as COMBINE_ENV_VAR
from test_scripts.bench.common import BenchError, run_timed
from test_scripts.bench.stats import interleaved, paired_ratios, summarize
from test_scripts.compare.configs import PROJECT, Config, rc_sources, write_rc
from test_scripts.compare.run import Suite, child_env

WORKERS = ("1", "2")
TEST_PATHS = ("test_scripts/test_api",)


def measure(
    *, db: str, environ: Mapping[str, str], db_env: Mapping[str, str], rounds: int, project_dir: Path, work: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    project_rc = project_dir / ".coveragerc"
    sources = [project_dir / source for source in rc_sources(project_rc)]
    walls: dict[str, list[float]] = {workers: [] for workers in WORKERS}
    combines: dict[str, list[float]] = {workers: [] for workers in WORKERS}
    reports: dict[str, list[float]] = {}
    suite = Suite(project_dir=project_dir, project_rc=project_rc, sources=tuple(sources), test_paths=TEST_PATHS,
                  name="api all", db=db, transport="threaded", env=dict(db_env))  # fmt: skip
    for round_, workers in interleaved(list(WORKERS), rounds):
        folder = work / f"n{workers}"
        data_file = folder / ".coverage"
        rc = write_rc(Config(name=PROJECT, base=PROJECT, branch=None), project_rc, folder / "coveragerc",
                      data_file=data_file, sources=sources)  # fmt: skip
        probe = folder / "combine.txt"
        probe.unlink(missing_ok=True)
        command = [
            sys.executable, "-m", "pytest", *TEST_PATHS, "--db", db, "--transport", "threaded", "-n", workers,
            "--cov", f"--cov-config={rc}", "--cov-report=", "--cov-fail-under=0",
            "-p", "test_scripts.bench.combine_probe", "--basetemp", str(folder / "tmp"),
        ]  # fmt: skip
        run_env = {**child_env(environ, suite), COMBINE_ENV_VAR: str(probe)}
        timed = run_timed(command, cwd=project_dir, env=run_env, log=work / f"n{workers}-{round_}.log")
        if timed.returncode != 0:
            raise BenchError(f"xdist: the -n {workers} run failed (pytest exit {timed.returncode}); see {timed.log}")
        walls[workers].append(timed.wall_s)
        combines[workers].append(sum(float(line) for line in probe.read_text().split()))
        say(f"xdist: round {round_}/{rounds}: -n {workers}: {timed.wall_s:.1f} s")
        if workers == WORKERS[-1]:
            for name, seconds in time_reports(rc, data_file, folder).items():
                reports.setdefault(name, []).append(seconds)
    return {
        "db": db,
        "suite": " ".join(TEST_PATHS),
        "wall_s": {f"-n {workers}": summarize(walls[workers]).as_dict(2) for workers in WORKERS},
        "ratio_n2_to_n1": summarize(paired_ratios(walls["2"], walls["1"])).as_dict(3),
        "combine_s": {f"-n {workers}": summarize(combines[workers]).as_dict(3) for workers in WORKERS},
        "report_s": {name: summarize(seconds).as_dict(3) for name, seconds in reports.items()},
    }


def time_reports(rc: Path, data_file: Path, folder: Path) -> dict[str, float]:
    """Seconds for each report `--coverage` writes, from the combined data, each from a fresh load."""
    import coverage

    outputs: dict[str, Callable[[coverage.Coverage], object]] = {
        "term-missing": lambda cov: cov.report(file=io.StringIO(), show_missing=True),
        "html": lambda cov: cov.html_report(directory=str(folder / "htmlcov")),
        "xml": lambda cov: cov.xml_report(outfile=str(folder / "coverage.xml")),
        "json": lambda cov: cov.json_report(outfile=str(folder / "coverage.json")),
    }
    seconds = {}
    for name, write in outputs.items():
        cov = coverage.Coverage(data_file=str(data_file), config_file=str(rc))
        begin = time.perf_counter()
        cov.load()
        write(cov)
        seconds[name] = time.perf_counter() - begin
    return seconds

