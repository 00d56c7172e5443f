"""The compare command: the runs, in parallel, then the analysis and the reports, per Python.

For each Python, in ``reports/compare/<X.Y>/`` (emptied first):

* ``truth``: pytest with ``-p test_scripts.truth.plugin --truth-out truth/truth.json`` and
  ``-p no:cov``: the executed lines, recorded without coverage.py;
* ``plain``: pytest with ``-p no:cov``, the wall-time baseline;
* one run per configuration: ``--cov --cov-config=<name>/coveragerc --cov-report=
  --cov-fail-under=0`` (no report, no gate: we read the data file), data in ``<name>/.coverage``,
  and ``-p test_scripts.compare.probe`` to note the core coverage really used. A slipcover
  configuration runs pytest under slipcover (``python -m test_scripts.slipcover_data run``), then
  converts its JSON into ``<name>/.coverage`` (``... convert``), on the same Python; its wall time
  covers both, as pytest-cov's covers saving its data. ``runner`` runs whichever configuration
  ``./test_runner.py --coverage`` picks on that Python.

One configuration's run on its own (what the benchmark times)::

    run = plan_config_run(suite, python, config, folder, os.environ)
    execute_one(run, cwd=suite.project_dir)   # run.returncode, run.wall_s, run.log

Each run is a process of its own with its own ``--basetemp``, its output in ``<name>.log``. They
run ``jobs`` at a time (the cores; one at a time on PostgreSQL, where the runs would share a
database). Wall times are each run's own, so with more than one job they include competing for the
cores: the ratios are rough (the benchmark measures them interleaved).

Then ``analyze`` runs on the same interpreter and compare writes ``reports/compare-<X.Y>.json``
for every Python, ``reports/compare.json`` (the first Python's: the only one without
``--python``), ``reports/compare.md`` (all of them) and ``reports/compare.html`` (the first
Python's; ``compare-<X.Y>.html`` for each), and prints the table.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from test_scripts.compare import analyze, report
from test_scripts.compare.configs import (
    BRANCH_SUFFIX,
    PROJECT,
    RUNNER,
    SLIPCOVER,
    Config,
    rc_list,
    resolve_runner,
    skip_reason,
    write_rc,
)
from test_scripts.compare.probe import ENV_VAR as PROBE_ENV_VAR
from test_scripts.compare.pythons import Python
from test_scripts.slipcover_data import PYTEST_ARGS as SLIPCOVER_PYTEST_ARGS
from test_scripts.slipcover_data import run_command as slipcover_command
from test_scripts.runner.cli import ExitCode, RunnerError, without_outer_run

# The directory that holds test_scripts: the children import the truth plugin and the probe from it.
HOME = Path(__file__).resolve().parents[2]
PARALLEL_NOTE = (
    "ratios are rough: runs went {jobs} at a time and competed for the cores "
    "(ratio = the run's wall time / the plain run's; the benchmark measures them interleaved)"
)


@dataclass(frozen=True)
class Suite:
    """What compare measures: which tests, on which source, from which project."""

    project_dir: Path
    project_rc: Path
    sources: tuple[Path, ...]  # absolute
    test_paths: tuple[str, ...]
    name: str  # "api all"
    pytest_args: tuple[str, ...] = ()  # --db, --transport, the person's own after --
    db: str | None = None
    transport: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    configs: tuple[Config, ...]
    jobs: int
    reports_dir: Path
    command: str  # the command line, for the markdown


@dataclass
class Run:
    name: str
    kind: str  # truth, plain, config
    command: list[str]
    env: dict[str, str]
    log: Path
    config: Config | None = None
    rc: Path | None = None
    data_file: Path | None = None
    probe: Path | None = None
    returncode: int | None = None
    wall_s: float | None = None
    # Commands that run after `command` succeeded, in the same log and wall time (slipcover's
    # conversion into a coverage data file).
    then: list[list[str]] = field(default_factory=list)
    conversion: Path | None = None  # slipcover_data's summary of the conversion


def display(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def child_env(environ: Mapping[str, str], suite: Suite) -> dict[str, str]:
    # Not an outer run's coverage, core or xdist identity, nor its pytest options.
    env = without_outer_run(environ, pytest_options=False)
    env.update(suite.env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HOME), environ.get("PYTHONPATH", "")]))
    return env


def plan_plain_run(suite: Suite, python: str, work: Path, environ: Mapping[str, str]) -> Run:
    """The suite without coverage: the wall-time baseline."""
    base = [python, "-m", "pytest", *suite.test_paths, *suite.pytest_args]
    return Run("plain", "plain", [*base, "-p", "no:cov", "--basetemp", str(work / "plain" / "tmp")],
               child_env(environ, suite), work / "plain.log")  # fmt: skip


def plan_config_run(suite: Suite, python: str, config: Config, folder: Path, environ: Mapping[str, str]) -> Run:
    """One configuration's run of the suite, its rc file written in `folder`; data in folder/.coverage.

    `config` must be resolved (`configs.resolve_runner`) for `runner`. The log is folder + ".log".
    """
    env = child_env(environ, suite)
    pytest_args = [*suite.test_paths, *suite.pytest_args]
    data_file = folder / ".coverage"
    rc = write_rc(config, suite.project_rc, folder / "coveragerc", data_file=data_file, sources=suite.sources)
    log = folder.parent / f"{config.dirname}.log"
    if config.engine == SLIPCOVER:
        out, summary = folder / "slipcover.json", folder / "conversion.json"
        omit = [str(suite.project_dir / pattern) if not pattern.startswith("*") else pattern
                for pattern in rc_list(suite.project_rc, "run", "omit")]  # fmt: skip
        command = [*slipcover_command(python, branch=bool(config.branch), sources=suite.sources, omit=omit, out=out),
                   "-m", "pytest", *pytest_args, *SLIPCOVER_PYTEST_ARGS, "--basetemp", str(folder / "tmp")]  # fmt: skip
        convert = [python, "-m", "test_scripts.slipcover_data", "convert", str(out), str(data_file), "--rc", str(rc),
                   "--base-dir", str(suite.project_dir), "--summary", str(summary)]  # fmt: skip
        return Run(config.name, "config", command, env, log, config=config, rc=rc, data_file=data_file,
                   then=[convert], conversion=summary)  # fmt: skip
    probe = folder / "probe.json"
    return Run(
        config.name,
        "config",
        [python, "-m", "pytest", *pytest_args, "--cov", f"--cov-config={rc}", "--cov-report=", "--cov-fail-under=0",
         "-p", "test_scripts.compare.probe", "--basetemp", str(folder / "tmp")],
        {**env, PROBE_ENV_VAR: str(probe)},
        log,
        config=config,
        rc=rc,
        data_file=data_file,
        probe=probe,
    )  # fmt: skip


def plan_runs(
    suite: Suite, python: str, configs: Sequence[Config], work: Path, environ: Mapping[str, str]
) -> list[Run]:
    """The truth run, the plain run and one run per configuration, with their rc files written."""
    base = [python, "-m", "pytest", *suite.test_paths, *suite.pytest_args]
    env = child_env(environ, suite)
    truth_dir = work / "truth"
    runs = [
        Run(
            "truth",
            "truth",
            [*base, "-p", "no:cov", "-p", "test_scripts.truth.plugin", "--truth-out", str(truth_dir / "truth.json"),
             *[arg for source in suite.sources for arg in ("--truth-source", str(source))],
             "--basetemp", str(truth_dir / "tmp")],
            env,
            work / "truth.log",
        ),  # fmt: skip
        plan_plain_run(suite, python, work, environ),
    ]
    runs += [plan_config_run(suite, python, config, work / config.dirname, environ) for config in configs]
    return runs


def execute_one(run: Run, cwd: Path, started: list[subprocess.Popen[bytes]] | None = None) -> Run:
    """Run `run` (and its `then` commands if it succeeded) in `cwd`; sets returncode and wall_s."""
    started = [] if started is None else started
    run.log.parent.mkdir(parents=True, exist_ok=True)
    basetemp = run.command[run.command.index("--basetemp") + 1]
    Path(basetemp).parent.mkdir(parents=True, exist_ok=True)  # pytest makes the last part only
    with open(run.log, "wb") as log:
        begin = time.perf_counter()
        for command in [run.command, *run.then]:
            log.write(f"$ {shlex.join(command)}\n\n".encode())
            log.flush()
            process = subprocess.Popen(command, cwd=str(cwd), env=run.env, stdout=log, stderr=subprocess.STDOUT)
            started.append(process)
            run.returncode = process.wait()
            if run.returncode != 0:
                break
        run.wall_s = round(time.perf_counter() - begin, 2)
    return run


_execute = execute_one


def execute(runs: Sequence[Run], *, cwd: Path, jobs: int, on_done: Callable[[Run, int, int], None]) -> None:
    """Run everything, `jobs` at a time, calling `on_done(run, finished, total)` as each ends."""
    started: list[subprocess.Popen[bytes]] = []
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        futures = [pool.submit(_execute, run, cwd, started) for run in runs]
        for finished, future in enumerate(as_completed(futures), 1):
            on_done(future.result(), finished, len(runs))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for process in started:  # only the processes we started, each by its own handle
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        raise
    pool.shutdown()


def coverage_warnings(log: Path) -> list[str]:
    """The lines of a run's output that carry a CoverageWarning, once each, in order."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if "CoverageWarning" in line))


def read_probe(path: Path | None) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}


def analysis_job(suite: Suite, work: Path, runs: Sequence[Run]) -> dict[str, Any]:
    analysis_rc = write_rc(
        Config(name=PROJECT, base=PROJECT, branch=None),
        suite.project_rc,
        work / "analysis.coveragerc",
        data_file=work / "analysis.coverage",
        sources=suite.sources,
    )
    return {
        "project_dir": str(suite.project_dir),
        "analysis_rc": str(analysis_rc),
        "sources": [str(source) for source in suite.sources],
        "truth": str(work / "truth" / "truth.json"),
        "configs": [
            {"name": run.name, "data_file": str(run.data_file), "rc": str(run.rc)}
            for run in runs
            if run.kind == "config"
        ],
    }


def run_analysis(python: str, job: Mapping[str, Any], work: Path, cwd: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """``analyze.measure`` on `python`, in `cwd`; a failure raises with where its output is."""
    job_file, out_file, log = work / "analysis-job.json", work / "analysis.json", work / "analysis.log"
    job_file.write_text(json.dumps(job, indent=1), encoding="utf-8")
    with open(log, "wb") as out:
        proc = subprocess.run(
            [python, "-m", "test_scripts.compare.analyze", str(job_file), str(out_file)],
            cwd=str(cwd),
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if proc.returncode != 0:
        raise AnalysisError(f"the analysis failed with exit code {proc.returncode}; its output is in {log}")
    return json.loads(out_file.read_text(encoding="utf-8"))


def fingerprint(roots: Sequence[Path]) -> dict[str, str]:
    """{file: sha256} of the Python files under `roots` (files or directories)."""
    found: dict[str, str] = {}
    for root in roots:
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            try:
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                found[str(path)] = "unreadable"
    return found


class SourceChanged(RunnerError):
    """Files under test changed while the runs ran: they measured different code; nothing is reported."""


class AnalysisError(RunnerError):
    """The analysis step failed: a bug of ours or a broken data file; the log says which."""


@dataclass
class PythonOutcome:
    python: Python
    result: dict[str, Any] | None
    failed: list[Run]
    work: Path


def compare_python(
    suite: Suite,
    python: Python,
    options: Options,
    *,
    say: Callable[[str], None],
    environ: Mapping[str, str] = os.environ,
) -> PythonOutcome:
    """Every run for one interpreter, then its analysis; the result dict, or the runs that failed."""
    work = options.reports_dir / "compare" / python.short
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    skipped = {
        config.name: reason for config in options.configs if (reason := skip_reason(config, python.version_tuple))
    }
    for name, reason in skipped.items():
        say(f"{python.short}: {name} skipped: {reason}")
    active = [resolve_runner(config, python.version_tuple, suite.project_rc)
              for config in options.configs if config.name not in skipped]  # fmt: skip
    for config in active:
        if config.stands_for:
            say(f"{python.short}: {config.name} is {config.stands_for} (what --coverage runs on {python.short})")
    runs = plan_runs(suite, python.executable, active, work, environ)
    say(f"{python.short}: {len(runs)} runs of {suite.name} ({', '.join(run.name for run in runs)}), "
        f"{options.jobs} at a time; output in {display(work, suite.project_dir)}/")  # fmt: skip

    def on_done(run: Run, finished: int, total: int) -> None:
        status = "ok" if run.returncode == 0 else f"FAILED (exit {run.returncode})"
        say(f"{python.short}: [{finished}/{total}] {run.name}: {status} in {run.wall_s:.1f}s")

    watched = [*suite.sources, *(suite.project_dir / path for path in suite.test_paths)]
    before = fingerprint(watched)
    execute(runs, cwd=suite.project_dir, jobs=options.jobs, on_done=on_done)
    check_unchanged(before, fingerprint(watched), suite.project_dir)
    failed = [run for run in runs if run.returncode != 0]
    if failed:
        return PythonOutcome(python, None, failed, work)

    measured = run_analysis(python.executable, analysis_job(suite, work, runs), work, suite.project_dir, runs[0].env)
    by_name = {run.name: run for run in runs}
    meta = {
        "suite": suite.name,
        "transport": suite.transport,
        "db": suite.db,
        "sources": [display(source, suite.project_dir) for source in suite.sources],
        "test_paths": list(suite.test_paths),
        "command": options.command,
        "jobs": options.jobs,
        "note": PARALLEL_NOTE.format(jobs=options.jobs) if options.jobs > 1 else None,
        "truth_wall_s": by_name["truth"].wall_s,
        "work_dir": display(work, suite.project_dir),
    }
    result = analyze.build_result(
        meta=meta,
        measured=measured,
        runs={run.name: run_facts(run, suite.project_dir) for run in runs if run.kind == "config"},
        configs=[config_entry(config, by_name.get(config.name), skipped.get(config.name), suite.project_dir)
                 for config in [next((a for a in active if a.name == c.name), c) for c in options.configs]],
        plain_wall_s=by_name["plain"].wall_s,
    )  # fmt: skip
    return PythonOutcome(python, result, [], work)


def check_unchanged(before: Mapping[str, str], after: Mapping[str, str], project_dir: Path) -> None:
    """Refuse a comparison whose runs may have measured different versions of the code."""
    if after == before:
        return
    changed = sorted(
        display(Path(name), project_dir) for name in {*before, *after} if before.get(name) != after.get(name)
    )
    more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    raise SourceChanged(
        f"{', '.join(changed[:3])}{more} changed while compare ran, so the runs measured different code; "
        "run compare again on a tree nobody is editing"
    )


def run_facts(run: Run, project_dir: Path) -> dict[str, Any]:
    """What a configuration's run left besides its data: wall time, warnings, the core it used."""
    conversion = read_probe(run.conversion) if run.conversion else {}
    return {
        "wall_s": run.wall_s,
        "warnings": coverage_warnings(run.log),
        "core": SLIPCOVER if run.conversion else read_probe(run.probe).get("core"),
        "log": display(run.log, project_dir),
        "conversion_problems": conversion.get("problems", []),
    }


def config_entry(config: Config, run: Run | None, skipped: str | None, project_dir: Path) -> dict[str, Any]:
    """The description of a configuration in the result; build_result adds its figures."""
    entry: dict[str, Any] = {
        "name": config.name,
        "about": config.about,
        "concurrency": list(config.concurrency) if config.concurrency else None,
        "branch": config.branch,
        "core_requested": config.core,
        "engine": config.engine,
    }
    if config.stands_for:
        entry["stands_for"] = config.stands_for
    if skipped is not None:
        # The schema's keys, empty, so a reader of compare.json finds them on every entry.
        entry.update(skipped=skipped, percent=None, lost=None, phantom=None, lost_lines={}, phantom_lines={},
                     wall_s=None, ratio=None, warnings=[])  # fmt: skip
        return entry
    assert run is not None and run.rc is not None
    entry["rc"] = display(run.rc, project_dir)
    if config.is_project:  # what the project's rc asks for, as coverage read it
        probe = read_probe(run.probe)
        entry["concurrency"], entry["branch"] = probe.get("concurrency"), probe.get("branch")
    return entry


def write_html_pages(
    results: Sequence[dict[str, Any]], reports_dir: Path, project_dir: Path, say: Callable[[str], None]
) -> list[Path]:
    """compare.html (the first Python's) and compare-<X.Y>.html per Python, if the page writer exists."""
    try:
        from test_scripts.compare import html
    except ModuleNotFoundError as exc:
        if exc.name != "test_scripts.compare.html":
            raise
        say("the HTML page is skipped: test_scripts/compare/html.py is not there yet")
        return []
    written = []
    for index, result in enumerate(results):
        names = ["compare.html"] if index == 0 else []
        for name in [*names, f"compare-{short_version(result)}.html"]:
            html.write_html(result, reports_dir / name, project_dir)
            written.append(reports_dir / name)
    return written


def short_version(result: Mapping[str, Any]) -> str:
    return ".".join(str(result["python"]).split(".")[:2])


def compare(
    suite: Suite, pythons: Sequence[Python], options: Options, *, say: Callable[[str], None], out: Any = None
) -> ExitCode:
    """The whole command; returns TESTS_FAILED, COVERAGE_INEXACT (the project's rc is not exact) or OK."""
    outcomes = [compare_python(suite, python, options, say=say) for python in pythons]
    results = [outcome.result for outcome in outcomes if outcome.result is not None]
    reports_dir = options.reports_dir
    reports_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for index, result in enumerate(results):
        text = json.dumps(result, indent=1) + "\n"
        for name in (["compare.json"] if index == 0 else []) + [f"compare-{short_version(result)}.json"]:
            (reports_dir / name).write_text(text, encoding="utf-8")
            written.append(reports_dir / name)
    if results:
        (reports_dir / "compare.md").write_text(report.markdown(results), encoding="utf-8")
        written.append(reports_dir / "compare.md")
        for result in results:
            report.print_result(result, file=out)
        written += write_html_pages(results, reports_dir, suite.project_dir, say)
        say(f"written: {', '.join(display(path, suite.project_dir) for path in written)}")

    status = ExitCode.OK
    for outcome in outcomes:
        if outcome.failed:
            for run in outcome.failed:
                say(f"{outcome.python.short}: the {run.name} run failed (pytest exit {run.returncode}); "
                    f"its output is in {display(run.log, suite.project_dir)}")  # fmt: skip
            status = ExitCode.TESTS_FAILED
    if status is ExitCode.OK:
        inexact = False
        for result in results:
            for name, key in ((PROJECT, "project_exact"), (RUNNER, "runner_exact")):
                if result.get(key) is not False:
                    continue
                inexact = True
                config = next(c for c in result["configs"] if c["name"] == name)
                what = (f"the project's rc file ({display(suite.project_rc, suite.project_dir)})" if name == PROJECT
                        else f"what --coverage runs ({config.get('stands_for')})")  # fmt: skip
                branches = (f", and its branch figures differ from {analyze.BRANCH_REFERENCE}'s in "
                            f"{len(config['branch_differences'])} files" if config.get("branches_match") is False
                            else "")  # fmt: skip
                say(
                    f"{result['python']}: {what} is not exact: {config['lost']} executed lines reported missed, "
                    f"{config['phantom']} reported covered that never ran{branches}"
                )
        if inexact:
            status = ExitCode.COVERAGE_INEXACT
    return status


def stderr_say(message: str) -> None:
    print(f"compare: {message}", file=sys.stderr, flush=True)
