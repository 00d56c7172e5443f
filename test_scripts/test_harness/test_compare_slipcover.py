"""Tests for compare's slipcover and runner configurations (test_scripts/compare/, issue 7).

Names, rc files, the run plan and the branch verdict are tested in process. The end-to-end test
runs compare for real on compare_fixtures/notes/ (see test_compare.py) with slipcover, line and
branch, next to the C tracer's exact branch configuration and `runner`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coverage
import pytest

from test_scripts.compare import analyze, configs, run
from test_scripts.compare.configs import parse_names
from test_scripts.runner import engines
from test_scripts.runner.cli import ExitCode
from test_scripts.test_harness.test_compare import THIS_PYTHON, compare_notes, notes_project, read_result


def one(name: str) -> configs.Config:
    [config] = parse_names(name)
    return config


def test_runner_takes_no_branch_suffix() -> None:
    with pytest.raises(configs.ConfigError, match=r"^'runner/branch': runner follows the rc file's branch setting"):
        parse_names("runner/branch")


@pytest.mark.parametrize(("branch", "python"), [(True, (3, 11, 7)), (False, (3, 12, 1)), (True, (3, 14, 0))])
def test_runner_resolves_to_what_coverage_runs(tmp_path: Path, branch: bool, python: tuple[int, ...]) -> None:
    rc = tmp_path / "rc"
    rc.write_text(f"[run]\nsource = src\nbranch = {'yes' if branch else 'False'}\n", encoding="utf-8")
    resolved = configs.resolve_runner(one("runner"), python, rc)
    expected = engines.choose(python, branch=branch, contexts=False).config
    assert (resolved.name, resolved.stands_for, resolved.about) == (
        "runner", expected, f"what ./test_runner.py --coverage runs here: {expected}"
    )
    assert (resolved.base, resolved.branch) == (one(expected).base, one(expected).branch)
    assert configs.resolve_runner(one("thread"), python, rc) == one("thread")


def test_rc_list_drops_comment_lines(tmp_path: Path) -> None:
    rc = tmp_path / "rc"
    rc.write_text("[run]\nomit =\n    # why\n    a/b.py, c/*.py\n    d.py\n", encoding="utf-8")
    assert configs.rc_list(rc, "run", "omit") == ["a/b.py", "c/*.py", "d.py"]
    assert configs.rc_list(rc, "run", "source") == []


def test_plan_config_run_slipcover_runs_under_slipcover_then_converts(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".coveragerc").write_text("[run]\nsource = app\nbranch = True\nomit = app/cli.py\n", encoding="utf-8")
    suite = run.Suite(project_dir=project, project_rc=project / ".coveragerc", sources=(project / "app",),
                      test_paths=("tests",), name="x all", pytest_args=("--db", "sqlite"))  # fmt: skip
    folder = tmp_path / "work" / "slipcover-branch"
    planned = run.plan_config_run(suite, "py", one("slipcover/branch"), folder, {})
    assert planned.command == [
        "py", "-m", "test_scripts.slipcover_data", "run", "--branch", "--source", str(project / "app"),
        "--omit", str(project / "app" / "cli.py"), "--json", "--out", str(folder / "slipcover.json"),
        "-m", "pytest", "tests", "--db", "sqlite", *run.SLIPCOVER_PYTEST_ARGS, "--basetemp", str(folder / "tmp"),
    ]  # fmt: skip
    assert planned.then == [[
        "py", "-m", "test_scripts.slipcover_data", "convert", str(folder / "slipcover.json"),
        str(folder / ".coverage"), "--rc", str(folder / "coveragerc"), "--base-dir", str(project),
        "--summary", str(folder / "conversion.json"),
    ]]  # fmt: skip
    rc = coverage.Coverage(config_file=str(planned.rc), data_file=None).config
    assert (rc.branch, rc.data_file, rc.run_omit) == (True, str(folder / ".coverage"), ["app/cli.py"])
    assert planned.log == tmp_path / "work" / "slipcover-branch.log"


def branch_result(own: dict, reference: dict, runner_lost: int = 0) -> dict:
    truth = {"a.py": {"statements": [1, 2], "executed": [1, 2]}}
    measured = {
        "python": "3.11.7",
        "coverage_version": "7.17.3",
        "truth": {"files": truth},
        "configs": {
            "thread+greenlet/branch": {"files": truth, "branches": reference},
            "slipcover/branch": {"files": truth, "branches": own},
            "runner": {"files": {"a.py": {"statements": [1, 2], "executed": [1, 2][: 2 - runner_lost]}},
                       "branches": reference},
        },
    }  # fmt: skip
    names = ["thread+greenlet/branch", "slipcover/branch", "runner"]
    runs = {name: {"wall_s": wall} for name, wall in zip(names, (20.0, 11.0, 11.0))}
    return analyze.build_result(meta={"suite": "s"}, measured=measured, runs=runs,
                                configs=[{"name": name} for name in names], plain_wall_s=10.0)  # fmt: skip


def test_branch_figures_unlike_the_c_tracers_make_a_configuration_inexact() -> None:
    reference = {"a.py": {"branches": 2, "partial": 1, "missing": [[1, 2]]}}
    differing = {"a.py": {"branches": 2, "partial": 0, "missing": []}}
    result = branch_result(differing, reference)
    slipcover = result["configs"][1]
    assert (slipcover["lost"], slipcover["phantom"], slipcover["branches_match"]) == (0, 0, False)
    assert slipcover["branch_differences"] == {"a.py": {"partial": [0, 1], "missing": [[], [[1, 2]]]}}
    assert (result["exact"], result["recommended"], result["runner_exact"]) == (
        ["thread+greenlet/branch", "runner"], "thread+greenlet/branch", True
    )


def test_same_branch_figures_and_the_runner_guard() -> None:
    reference = {"a.py": {"branches": 2, "partial": 1, "missing": [[1, 2]]}}
    result = branch_result(reference, reference, runner_lost=1)
    assert result["configs"][1]["branches_match"] is True
    assert result["configs"][0]["branches_match"] is None  # the reference itself
    assert (result["recommended"], result["runner_exact"]) == ("slipcover/branch", False)


def test_e2e_slipcover_is_exact_on_the_notes_app_and_so_is_runner(tmp_path: Path) -> None:
    project = notes_project(tmp_path, "thread,greenlet")
    status, said = compare_notes(project, "slipcover,slipcover/branch,thread+greenlet/branch,runner")
    assert status == ExitCode.OK, said
    result = read_result(project)
    by_name = {c["name"]: c for c in result["configs"]}
    assert [(name, c["lost"], c["phantom"]) for name, c in by_name.items()] == [
        ("slipcover", 0, 0), ("slipcover/branch", 0, 0), ("thread+greenlet/branch", 0, 0), ("runner", 0, 0),
    ]  # fmt: skip
    assert by_name["slipcover/branch"]["branches_match"] is True
    assert by_name["slipcover/branch"]["conversion_problems"] == []
    assert by_name["slipcover"]["has_arcs"] is False and by_name["slipcover"]["core"] == "slipcover"
    expected = engines.choose(sys.version_info, branch=True, contexts=False).config
    assert (by_name["runner"]["stands_for"], result["runner_exact"]) == (expected, True)
    assert f"{THIS_PYTHON.short}: runner is {expected} (what --coverage runs on {THIS_PYTHON.short})" in said
