"""Tests for the fast exact mode: test_scripts/runner/engines.py and the --coverage rows of cli.py.

The choice is tested as a table (Python, options -> engine). The end-to-end tests run
./test_runner.py --coverage on one small API module in a copy of the project (its .coverage,
htmlcov/ and reports are the copy's, not the checkout's), once per engine kind, and check the
four reports and fail_under: a subset of the suite is under the rc's fail_under, so each run must
exit 1 with pytest-cov's message, whichever engine measured.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from test_scripts.runner import bootstrap, cli, engines
from test_scripts.runner.cli import ExitCode, without_outer_run

Capture = pytest.CaptureFixture[str]


# --- the choice --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("python", "branch", "contexts", "config"),
    [
        ((3, 11, 7), True, False, "slipcover/branch"),
        ((3, 12, 1), True, False, "slipcover/branch"),
        ((3, 13, 0), True, False, "slipcover/branch"),
        ((3, 11, 7), False, False, "slipcover"),
        ((3, 12, 1), False, False, "sysmon"),
        ((3, 13, 0), False, False, "sysmon"),
        ((3, 11, 7), True, True, "thread+greenlet/branch"),
        ((3, 13, 0), False, True, "thread+greenlet"),
        ((3, 14, 0), True, False, "thread+greenlet/branch"),
        ((3, 14, 0), False, False, "thread+greenlet"),
    ],
)
def test_choose_picks_the_fastest_exact_configuration(
    python: tuple[int, ...], branch: bool, contexts: bool, config: str
) -> None:
    assert engines.choose(python, branch=branch, contexts=contexts).config == config


def test_choose_says_why_in_one_line() -> None:
    engine = engines.choose((3, 11, 7), branch=True, contexts=False)
    assert engine.line == (
        "coverage: slipcover, with branches (exact per compare on 3.11; about 1.1x the run without coverage "
        "vs 2.1x for the C tracer); --coverage-config NAME to choose"
    )
    unmeasured = engines.choose((3, 14, 0), branch=True, contexts=False)
    assert unmeasured.reason == "compare has not measured Python 3.14; `compare --python 3.14` would"
    with_contexts = engines.choose((3, 12, 1), branch=True, contexts=True)
    assert "per-test contexts need the C tracer" in with_contexts.line


def test_every_exact_configuration_is_one_compare_knows() -> None:
    names = {name for ratios in engines.EXACT.values() for name in ratios}
    assert names <= set(engines.forced_choices())


@pytest.mark.parametrize(
    ("name", "python", "contexts", "message"),
    [
        ("bogus", (3, 11, 7), False, "--coverage-config: unknown configuration 'bogus'; choose from "),
        ("runner", (3, 11, 7), False, "--coverage-config: unknown configuration 'runner'; choose from "),
        ("thread,greenlet", (3, 11, 7), False, "--coverage-config: unknown configuration 'thread,greenlet'"),
        ("sysmon", (3, 11, 7), False, "--coverage-config sysmon: the sys.monitoring core needs Python 3.12+"),
        ("sysmon/branch", (3, 12, 1), False, "--coverage-config sysmon/branch: sysmon/branch needs Python 3.14+"),
        ("slipcover/branch", (3, 12, 1), True, "--contexts records which test ran each line, and slipcover/branch"),
    ],
)
def test_forced_refuses_in_one_line(name: str, python: tuple[int, ...], contexts: bool, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        engines.forced(name, python, contexts=contexts)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_forced_says_whether_compare_showed_it_exact() -> None:
    assert engines.forced("thread+greenlet/branch", (3, 11, 7), contexts=True).reason == (
        "forced; exact per compare on 3.11"
    )
    assert engines.forced("thread", (3, 11, 7), contexts=False).reason == "forced; NOT shown exact by compare on 3.11"
    assert engines.forced("project", (3, 11, 7), contexts=False).line == (
        "coverage: coverage.py with .coveragerc as it is (forced); --coverage-config NAME to choose"
    )


# --- the command line --------------------------------------------------------------------------


def test_coverage_config_typo_is_a_usage_error_listing_the_choices(capsys: Capture) -> None:
    assert cli.main(["--coverage-config", "slipcover/branches", "api"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("test_runner.py: error: --coverage-config: unknown configuration 'slipcover/branches'; "
                          "choose from thread, thread/branch, greenlet,")  # fmt: skip
    assert "slipcover, slipcover/branch, project\n" in err


def test_serve_refuses_coverage_config(capsys: Capture) -> None:
    assert cli.main(["--coverage-config", "slipcover", "serve"]) == ExitCode.USAGE
    assert capsys.readouterr().err == (
        "test_runner.py: error: --coverage-config is a test option; serve does not take it\n"
    )


def test_coverage_config_implies_coverage() -> None:
    plan = cli.plan_from_args(cli.parse_args(["--coverage-config", "thread+greenlet/branch", "api"]))
    assert (plan.coverage, plan.coverage_config) == (True, "thread+greenlet/branch")


def plan(*argv: str) -> cli.RunPlan:
    return cli.plan_from_args(cli.parse_args(list(argv)))


def test_build_command_for_slipcover_runs_pytest_under_it() -> None:
    engine = engines.forced("slipcover/branch", (3, 11, 7), contexts=False)
    command = cli.build_pytest_command(plan("--coverage", "-n", "2", "api"), ["P"], python="py", engine=engine)
    assert command == [
        "py", "-m", "test_scripts.slipcover_data", "run", "--branch", "--source", "backend/app",
        "--omit", "backend/app/cli.py", "--json", "--out", "reports/coverage/slipcover.json",
        "-m", "pytest", "P", "--db", "sqlite", "--transport", "threaded", "-n", "2",
        "-W", "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning",
        "-W", "ignore:Unable to activate pytest branch coverage:RuntimeWarning",
    ]  # fmt: skip


def test_build_command_for_the_c_tracer_uses_the_derived_rc() -> None:
    engine = engines.forced("thread+greenlet/branch", (3, 11, 7), contexts=True)
    command = cli.build_pytest_command(plan("--contexts", "api"), ["P"], python="py", engine=engine)
    assert command == [
        "py", "-m", "pytest", "P", "--db", "sqlite", "--transport", "threaded",
        "--cov", "--cov-config=reports/coverage/thread+greenlet-branch.coveragerc", *cli.COVERAGE_REPORTS,
        "--cov-context=test",
    ]  # fmt: skip


def test_build_command_for_project_uses_the_rc_as_it_is() -> None:
    engine = engines.forced("project", (3, 11, 7), contexts=False)
    command = cli.build_pytest_command(plan("--coverage", "api"), ["P"], python="py", engine=engine)
    assert command[-len(cli.COVERAGE_ARGS):] == list(cli.COVERAGE_ARGS)  # fmt: skip
    assert "--cov-config=.coveragerc" in command


def test_derived_rc_keeps_the_project_rc_and_sets_the_engine(tmp_path: Path) -> None:
    (tmp_path / ".coveragerc").write_text((cli.PROJECT_DIR / ".coveragerc").read_text(encoding="utf-8"))
    engine = engines.forced("thread+greenlet", (3, 11, 7), contexts=False)
    rc = cli.write_engine_rc(engine, tmp_path)
    config = coverage.Coverage(config_file=str(tmp_path / rc), data_file=None).config
    project = coverage.Coverage(config_file=str(cli.COVERAGERC), data_file=None).config
    assert (config.branch, config.concurrency, config.data_file) == (False, ["thread", "greenlet"], ".coverage")
    assert (config.source, config.run_omit, config.fail_under) == (project.source, project.run_omit, project.fail_under)


# --- end to end, in a copy of the project --------------------------------------------------------


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's runner, app, tests and config, without its data, reports or venvs."""
    copy = tmp_path_factory.mktemp("project")
    home = cli.PROJECT_DIR
    for name in ("backend", "test_scripts"):
        shutil.copytree(home / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "htmlcov"))
    for name in ("test_runner.py", "pytest.ini", ".coveragerc", "Pipfile", "Pipfile.lock"):
        shutil.copy2(home / name, copy / name)
    return copy


def run_copy(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**without_outer_run(os.environ, pytest_options=False), bootstrap.VENV_ENV_VAR: sys.prefix,
           "COVREF_SKIP_BROWSER": "1"}  # fmt: skip
    return subprocess.run([sys.executable, str(project / "test_runner.py"), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@pytest.mark.parametrize(
    ("options", "engine_line", "branch"),
    [
        (["--coverage-config", "slipcover/branch"], "coverage: slipcover, with branches", True),
        (["--coverage-config", "slipcover", "-n", "2"], "coverage: slipcover, lines only", False),
        (["--coverage-config", "thread+greenlet/branch"], "coverage: coverage.py's C tracer", True),
    ],
)
def test_e2e_coverage_writes_the_four_reports_and_gates_fail_under(
    project_copy: Path, options: list[str], engine_line: str, branch: bool
) -> None:
    done = run_copy(project_copy, *options, "api", "health")
    assert done.returncode == ExitCode.TESTS_FAILED, done.stdout + done.stderr
    assert f"test_runner.py: {engine_line}" in done.stderr
    assert "4 passed" in done.stdout
    assert "FAIL Required test coverage of 91.0% not reached. Total coverage: " in done.stdout
    assert "TOTAL" in done.stdout and "backend/app/api/health.py" in done.stdout
    report = json.loads((project_copy / "coverage.json").read_text(encoding="utf-8"))
    health = report["files"]["backend/app/api/health.py"]
    assert (health["missing_lines"], report["meta"]["branch_coverage"]) == ([], branch)
    assert (project_copy / "htmlcov" / "index.html").is_file()
    assert "<coverage " in (project_copy / "coverage.xml").read_text(encoding="utf-8")
    data = coverage.CoverageData(basename=str(project_copy / ".coverage"))
    data.read()
    assert data.has_arcs() is branch and len(data.measured_files()) == len(report["files"])
