"""Tests for the coverage policy commands: test_scripts/runner/policy.py (check, diff-cover,
who-covers, badge) and their rows in ./test_runner.py.

Every command reads paths it is given, so nothing here reads or writes the project's own
coverage.json, .coverage or .coverage-ratchet.json: check works on synthetic coverage.json files,
diff-cover on a throwaway git repository with a real coverage.xml, who-covers on data recorded by
a real (small) coverage run with per-test contexts, all in tmp_path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Mapping

import anybadge
import pytest

from test_scripts.runner import bootstrap, cli, policy
from test_scripts.runner.base import ExitCode, ProjectError, UsageError
from test_scripts.runner.policy import Figure, NoCoverageData, Target

Capture = pytest.CaptureFixture[str]
# (covered statements, statements, covered branches, branches) per file.
Counts = Mapping[str, tuple[int, int, int, int]]

TARGETS_TOML = """\
[tool.covref.targets]
"app/services/fx.py" = 95
"app/services/*" = 80
"*" = 75
"""


# --- helpers -----------------------------------------------------------------------------------


def summary(covered: int, statements: int, covered_branches: int, branches: int) -> dict:
    """A file's summary as coverage.py 7 writes it (the fields check reads, and the float it shows)."""
    total = statements + branches
    percent = 100.0 * (covered + covered_branches) / total if total else 100.0
    return {
        "covered_lines": covered, "num_statements": statements, "missing_lines": statements - covered,
        "covered_branches": covered_branches, "num_branches": branches,
        "percent_covered": percent, "percent_covered_display": f"{percent:.1f}",
    }  # fmt: skip


def write_coverage_json(path: Path, counts: Counts, *, branch: bool = True) -> Path:
    files = {name: {"summary": summary(*c)} for name, c in counts.items()}
    totals = summary(*(sum(c[i] for c in counts.values()) for i in range(4)))
    report = {"meta": {"format": 3, "version": "7.17.3", "timestamp": "2026-11-21T12:00:00", "branch_coverage": branch},
              "files": files, "totals": totals}  # fmt: skip
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


class Project:
    """coverage.json, pyproject.toml and the ratchet file of a synthetic project in tmp_path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.coverage_json = root / "coverage.json"
        self.pyproject = root / "pyproject.toml"
        self.ratchet = root / ".coverage-ratchet.json"
        self.pyproject.write_text(TARGETS_TOML, encoding="utf-8")

    def check(self, counts: Counts, *, update: bool = False) -> tuple[ExitCode, list[str]]:
        write_coverage_json(self.coverage_json, counts)
        lines: list[str] = []
        code = policy.check(
            coverage_json=self.coverage_json, pyproject=self.pyproject, ratchet=self.ratchet,
            update_ratchet=update, project_dir=self.root, out=lines.append,
        )  # fmt: skip
        return code, lines

    def floor(self) -> Decimal | None:
        return policy.read_ratchet(self.ratchet)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)


# fx.py 96/100 (96%), providers.py 81/100, db.py 76/100: every module meets its target.
MEETS: Counts = {
    "app/services/fx.py": (90, 90, 6, 10),
    "app/services/providers.py": (71, 80, 10, 20),
    "app/db.py": (70, 80, 6, 20),
}


def with_file(counts: Counts, name: str, figure: tuple[int, int, int, int]) -> Counts:
    return {**counts, name: figure}


# --- figures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("covered", "total", "shown"),
    [(1, 3, "33.33"), (2, 3, "66.66"), (9174, 10000, "91.74"), (57, 100, "57.00"), (0, 0, "100.00"), (219, 219, "100.00")],
)
def test_figure_is_exact_and_truncated(covered: int, total: int, shown: str) -> None:
    figure = Figure(covered, total)
    assert str(figure.shown) == shown
    assert figure.percent == (Fraction(100 * covered, total) if total else 100)


def test_figure_equals_coverage_percent_covered_of_a_real_run(tmp_path: Path) -> None:
    """Our percent is coverage.py's own percent_covered (statements and branches together)."""
    (tmp_path / "mod.py").write_text("def f(x):\n    if x:\n        return 1\n    return 2\n\nf(1)\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "coverage", "run", "--branch", "--data-file=.cov", "mod.py"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "coverage", "json", "--data-file=.cov", "-o", "coverage.json"],
                   cwd=tmp_path, check=True, capture_output=True)  # fmt: skip
    measurement = policy.read_coverage_json(tmp_path / "coverage.json", tmp_path)
    report = json.loads((tmp_path / "coverage.json").read_text(encoding="utf-8"))
    # 5 statements, 4 run; 2 branches at line 2, 1 taken: 5 of 7.
    assert measurement.files["mod.py"] == Figure(5, 7)
    assert float(measurement.total.percent) == report["totals"]["percent_covered"]


# --- check: targets ------------------------------------------------------------------------------


def test_check_passes_when_every_module_meets_its_target(project: Project, capsys: Capture) -> None:
    code, lines = project.check(MEETS)
    assert code == ExitCode.OK
    assert lines[1:5] == [
        "  target  pattern                            files  lowest",
        "     95%  app/services/fx.py                     1  96% app/services/fx.py",
        "     80%  app/services/*                         1  81% app/services/providers.py",
        "     75%  *                                      1  76% app/db.py",
    ]
    assert capsys.readouterr().err == "test_runner.py: check passed: 3 modules at or above their targets; total 84.33%\n"


def test_check_names_each_module_below_target_with_figure_and_target(project: Project, capsys: Capture) -> None:
    counts = with_file(MEETS, "app/services/fx.py", (88, 90, 6, 10))  # 94%
    counts = with_file(counts, "app/db.py", (60, 80, 6, 20))  # 66%
    code, lines = project.check(counts)
    assert code == ExitCode.BELOW_TARGET
    assert [line for line in lines if line.startswith("below target")] == [
        "below target: app/db.py 66% < 75% (66/100 statements+branches; target from '*')",
        "below target: app/services/fx.py 94% < 95% (94/100 statements+branches; target from 'app/services/fx.py')",
    ]
    assert capsys.readouterr().err == "test_runner.py: check failed: 2 modules below target\n"


def test_check_counts_branches_not_only_statements(project: Project) -> None:
    # Every statement ran, but 6 of 10 branches: 96/100 is 96%, 100/110 would be line coverage.
    code, lines = project.check(with_file(MEETS, "app/services/fx.py", (90, 90, 4, 10)))
    assert code == ExitCode.BELOW_TARGET
    assert "below target: app/services/fx.py 94% < 95% (94/100 statements+branches; target from 'app/services/fx.py')" in lines


def test_check_target_is_met_exactly_at_the_target(project: Project) -> None:
    code, _ = project.check(with_file(MEETS, "app/services/fx.py", (89, 90, 6, 10)))  # 95/100
    assert code == ExitCode.OK


def test_check_just_below_target_fails_though_rounding_would_show_the_target(project: Project) -> None:
    # 18999/20000 = 94.995%: coverage's report (precision 1) shows 95.0, and it is below 95.
    code, lines = project.check(with_file(MEETS, "app/services/fx.py", (18999, 20000, 0, 0)))
    assert code == ExitCode.BELOW_TARGET
    assert "below target: app/services/fx.py 94.99% < 95% (18999/20000 statements+branches; target from 'app/services/fx.py')" in lines


def test_first_matching_pattern_decides_the_target() -> None:
    targets = [Target("a/fx.py", Decimal(95)), Target("a/*", Decimal(80)), Target("*", Decimal(75))]
    chosen = policy.assign_targets(["a/fx.py", "a/b/deep.py", "top.py"], targets)
    assert chosen == {"a/fx.py": targets[0], "a/b/deep.py": targets[1], "top.py": targets[2]}


def test_pattern_matching_no_file_is_a_project_error() -> None:
    targets = [Target("app/services/fx_renamed.py", Decimal(95)), Target("*", Decimal(75))]
    with pytest.raises(ProjectError, match=r"^\[tool.covref.targets\]: 'app/services/fx_renamed.py' matches no measured file \(renamed or misspelt\?\)$"):
        policy.assign_targets(["app/services/fx.py"], targets)


def test_pattern_shadowed_by_an_earlier_one_is_a_project_error() -> None:
    targets = [Target("*", Decimal(75)), Target("app/services/fx.py", Decimal(95))]
    message = (
        r"^\[tool.covref.targets\]: 'app/services/fx.py' decides no file: '\*', written before it, "
        r"takes app/services/fx.py; put the more specific pattern first$"
    )
    with pytest.raises(ProjectError, match=message):
        policy.assign_targets(["app/services/fx.py"], targets)


def test_check_lists_files_no_pattern_matches(project: Project) -> None:
    project.pyproject.write_text('[tool.covref.targets]\n"app/services/*" = 80\n', encoding="utf-8")
    code, lines = project.check({"app/services/fx.py": (90, 90, 10, 10), "app/db.py": (0, 10, 0, 0)})
    assert code == ExitCode.OK
    assert "  no target (no pattern matches): app/db.py" in lines


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.other]\nx = 1\n", r"pyproject.toml \[tool.covref.targets\] is missing or empty; check reads the per-module targets there"),
        ('[tool.covref.targets]\n"*" = "95%"\n', r"pyproject.toml \[tool.covref.targets\] '\*': expected a percentage such as 95 or 92.5, got '95%'"),
        ('[tool.covref.targets]\n"*" = 101\n', r"pyproject.toml \[tool.covref.targets\] '\*': 101 must be from 0 to 100 with at most 2 decimals"),
        ('[tool.covref.targets]\n"*" = 92.125\n', r"'\*': 92.125 must be from 0 to 100 with at most 2 decimals"),
        ('[tool.covref.targets\n', r"pyproject.toml is not valid TOML: "),
    ],
)
def test_bad_targets_table_is_one_line(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ProjectError, match=message):
        policy.read_targets(path)


def test_targets_keep_the_order_written_and_exact_decimals(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.mutmut]\npaths = ["x"]\n\n[tool.covref.targets]\n"z/*" = 92.5\n"a/*" = 80\n', encoding="utf-8")
    assert policy.read_targets(path) == [Target("z/*", Decimal("92.5")), Target("a/*", Decimal(80))]


# --- check: coverage data ------------------------------------------------------------------------


def test_check_without_coverage_json_is_no_coverage_data(project: Project) -> None:
    with pytest.raises(NoCoverageData, match=r"^no coverage data: .*coverage.json does not exist; run \./test_runner\.py --coverage api all first$"):
        policy.check(coverage_json=project.coverage_json, pyproject=project.pyproject, ratchet=project.ratchet, update_ratchet=False)
    assert NoCoverageData.exit_code == ExitCode.NO_COVERAGE_DATA == 72


def test_check_refuses_line_only_data(project: Project) -> None:
    write_coverage_json(project.coverage_json, MEETS, branch=False)
    with pytest.raises(NoCoverageData, match=r"was written without branch coverage, and the targets count branches"):
        policy.read_coverage_json(project.coverage_json)


@pytest.mark.parametrize("text", ["{", '{"meta": {"branch_coverage": true}}', "[]"])
def test_check_refuses_what_is_not_a_coverage_report(project: Project, text: str) -> None:
    project.coverage_json.write_text(text, encoding="utf-8")
    with pytest.raises(NoCoverageData, match=r"coverage.json is not a coverage.py JSON report \(.+\); run \./test_runner\.py --coverage api all to write it again$"):
        policy.read_coverage_json(project.coverage_json)


# --- check: the ratchet --------------------------------------------------------------------------


def test_check_fails_when_total_drops_below_the_floor(project: Project, capsys: Capture) -> None:
    policy.write_ratchet(project.ratchet, Decimal("85.00"))
    code, lines = project.check(MEETS)  # 253/300 = 84.33%
    assert code == ExitCode.BELOW_TARGET
    assert lines[-1] == "ratchet: total 84.33% is below the floor 85% (.coverage-ratchet.json), down 0.67 points"
    assert capsys.readouterr().err == "test_runner.py: check failed: total below the ratchet floor\n"


def test_update_ratchet_never_lowers_the_floor(project: Project) -> None:
    policy.write_ratchet(project.ratchet, Decimal("85.00"))
    before = project.ratchet.read_bytes()
    code, lines = project.check(MEETS, update=True)
    assert code == ExitCode.BELOW_TARGET
    assert lines[-1].endswith("down 0.67 points; --update-ratchet never lowers it")
    assert project.ratchet.read_bytes() == before


def test_update_ratchet_raises_the_floor_when_total_rose(project: Project) -> None:
    policy.write_ratchet(project.ratchet, Decimal("80.10"))
    code, lines = project.check(MEETS, update=True)
    assert code == ExitCode.OK
    assert lines[-1] == "ratchet: total 84.33% rose above the floor 80.1%; raised the floor to 84.33% in .coverage-ratchet.json"
    assert project.floor() == Decimal("84.33")


def test_rise_without_update_is_only_reported(project: Project) -> None:
    policy.write_ratchet(project.ratchet, Decimal("80.10"))
    before = project.ratchet.read_bytes()
    code, lines = project.check(MEETS)
    assert code == ExitCode.OK
    assert lines[-1] == (
        "ratchet: total 84.33% is above the floor 80.1% (.coverage-ratchet.json); "
        "`./test_runner.py check --update-ratchet` raises it"
    )
    assert project.ratchet.read_bytes() == before


def test_update_ratchet_starts_the_floor_when_there_is_none(project: Project) -> None:
    code, lines = project.check(MEETS, update=True)
    assert (code, project.floor()) == (ExitCode.OK, Decimal("84.33"))
    assert lines[-1] == "ratchet: total 84.33%; no floor yet, so .coverage-ratchet.json now holds 84.33%"


def test_without_floor_and_without_update_nothing_is_written(project: Project) -> None:
    code, lines = project.check(MEETS)
    assert (code, project.ratchet.exists()) == (ExitCode.OK, False)
    assert lines[-1] == "ratchet: total 84.33%; no floor yet (.coverage-ratchet.json): `check --update-ratchet` starts it here"


@pytest.mark.parametrize(("covered", "total"), [(1, 3), (2, 3), (253, 300), (1112 + 178, 1182 + 224), (57, 100)])
def test_floor_written_from_a_total_holds_on_the_same_data(project: Project, covered: int, total: int) -> None:
    """No flapping: the figure the floor was set from compares equal to it on the next run."""
    counts = {"app/db.py": (covered, total, 0, 0)}
    project.pyproject.write_text('[tool.covref.targets]\n"*" = 0\n', encoding="utf-8")
    project.check(counts, update=True)
    for _ in range(2):
        code, lines = project.check(counts, update=True)
        assert code == ExitCode.OK
        assert lines[-1].startswith(f"ratchet: total {policy.show(Figure(covered, total).shown)} holds the floor")


def test_ratchet_file_is_stored_with_fixed_precision_and_reads_back_exactly(project: Project) -> None:
    policy.write_ratchet(project.ratchet, Decimal("91.7"))
    stored = json.loads(project.ratchet.read_text(encoding="utf-8"))
    assert project.ratchet.read_text(encoding="utf-8").splitlines()[1] == '  "floor": 91.70,'
    assert (stored["floor"], project.floor()) == (91.7, Decimal("91.70"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"\.coverage-ratchet\.json is not a ratchet file"),
        ('{"total": 91}', r"\.coverage-ratchet\.json is not a ratchet file"),
        ('{"floor": 91.745}', r"floor: 91\.745 must be from 0 to 100 with at most 2 decimals"),
        ('{"floor": "91.74"}', r"floor: expected a percentage such as 95 or 92\.5, got '91\.74'"),
    ],
)
def test_bad_ratchet_file_is_one_line(project: Project, text: str, message: str) -> None:
    project.ratchet.write_text(text, encoding="utf-8")
    with pytest.raises(ProjectError, match=message):
        project.floor()


def test_project_ratchet_and_targets_are_readable_and_give_the_critical_paths_95() -> None:
    """The project's own files: a renamed service module or a reordered table breaks this."""
    sources = sorted(
        path.relative_to(cli.PROJECT_DIR).as_posix()
        for path in (cli.PROJECT_DIR / "backend" / "app").rglob("*.py")
        if path.name != "cli.py" or path.parent.name != "app"  # omitted in .coveragerc
    )
    chosen = policy.assign_targets(sources, policy.read_targets(policy.PYPROJECT))
    assert chosen["backend/app/services/fx.py"].percent == 95
    assert chosen["backend/app/services/assets.py"].percent == 95
    assert all(target.percent >= 75 for target in chosen.values())
    assert policy.read_ratchet(policy.RATCHET_FILE) is not None


# --- check through the runner --------------------------------------------------------------------


@pytest.fixture
def in_venv(monkeypatch: pytest.MonkeyPatch) -> None:
    """cli.main as in the venv it re-executes into: we are there already (and want no stale-lock note)."""
    monkeypatch.setattr(cli, "enter_venv", lambda argv: None)


@pytest.fixture
def project_paths(project: Project, monkeypatch: pytest.MonkeyPatch, in_venv: None) -> Project:
    """The runner's check reading the synthetic project instead of the real one."""
    monkeypatch.setattr(policy, "COVERAGE_JSON", project.coverage_json)
    monkeypatch.setattr(policy, "PYPROJECT", project.pyproject)
    monkeypatch.setattr(policy, "RATCHET_FILE", project.ratchet)
    return project


def test_runner_check_exits_below_target(project_paths: Project, capsys: Capture) -> None:
    write_coverage_json(project_paths.coverage_json, with_file(MEETS, "app/services/fx.py", (80, 90, 6, 10)))
    assert cli.main(["check"]) == ExitCode.BELOW_TARGET
    captured = capsys.readouterr()
    assert "below target: app/services/fx.py 86% < 95%" in captured.out
    assert captured.err == "test_runner.py: check failed: 1 module below target\n"


def test_runner_check_without_data_is_one_line_and_72(project_paths: Project, capsys: Capture) -> None:
    assert cli.main(["check", "--update-ratchet"]) == ExitCode.NO_COVERAGE_DATA
    captured = capsys.readouterr()
    assert (captured.out, captured.err.count("\n")) == ("", 1)
    assert captured.err.startswith("test_runner.py: no coverage data: ")


def run_runner(*args: str) -> subprocess.CompletedProcess[str]:
    """./test_runner.py in a subprocess, told that our venv is its venv, so it never bootstraps."""
    env = {**os.environ, bootstrap.VENV_ENV_VAR: sys.prefix}
    return subprocess.run(
        [sys.executable, str(cli.RUNNER_SCRIPT), *args], capture_output=True, text=True, env=env, cwd=cli.PROJECT_DIR, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--bogus"], "unrecognized arguments: --bogus"),
        (["--coverage", "check"], "--coverage is a test option; check does not take it"),
        (["check", "--", "-x"], "arguments after -- are for pytest; check does not take them"),
        (["diff-cover", "--fail-under", "101"], "argument --fail-under: expected a percentage from 0 to 100, got '101'"),
        (["diff-cover", "--fail-under", "abc"], "argument --fail-under: expected a percentage from 0 to 100, got 'abc'"),
        (["diff-cover", "--compare-branch", "no/such-branch"],
         "--compare-branch no/such-branch: no such branch or commit here (`git branch -a` lists them)"),
        (["who-covers", "backend/app/services/fx.py"],
         "expected FILE:LINE such as backend/app/services/fx.py:42, got 'backend/app/services/fx.py'"),
        (["who-covers", "backend/app/services/fx.py:0"],
         "expected FILE:LINE such as backend/app/services/fx.py:42, got 'backend/app/services/fx.py:0'"),
        (["who-covers", "backend/app/services/nosuch.py:3"], "backend/app/services/nosuch.py: no such file"),
        (["-k", "x", "badge"], "-k is a test option; badge does not take it"),
    ],
)  # fmt: skip
def test_usage_errors_end_to_end_are_one_line(args: list[str], message: str) -> None:
    result = run_runner(*args)
    assert (result.returncode, result.stdout, result.stderr) == (ExitCode.USAGE, "", f"test_runner.py: error: {message}\n")


def test_help_shows_the_policy_commands_usage(capsys: Capture) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for usage in ("check [--update-ratchet]", "diff-cover [--compare-branch BRANCH] [--fail-under N]", "who-covers FILE:LINE", "badge"):
        assert f"test_runner.py {usage}" in out


# --- diff-cover ----------------------------------------------------------------------------------

GIT = ("git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false")
BASE_MODULE = "def unchanged(x):\n    return x\n"
CHANGED_MODULE = """\
def unchanged(x):
    return x


def sign(x):
    if x > 0:
        return "positive"
    return "other"


def never_called():
    return 1
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def measured_repo(tmp_path: Path, *, calls: str) -> Path:
    """A git repo: main has pkg/mod.py, branch `feature` adds lines; coverage.xml from running `calls`."""
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (repo / "pkg" / "mod.py").write_text(BASE_MODULE, encoding="utf-8")
    (repo / ".gitignore").write_text(".coverage*\ncoverage.xml\nreports/\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "pkg" / "mod.py").write_text(CHANGED_MODULE, encoding="utf-8")
    git(repo, "commit", "-q", "-am", "sign, never_called")
    (repo / "run.py").write_text(f"from pkg.mod import *\n{calls}\n", encoding="utf-8")
    coverage = [sys.executable, "-m", "coverage"]
    subprocess.run([*coverage, "run", "--branch", "--source=pkg", "run.py"], cwd=repo, check=True)
    subprocess.run([*coverage, "xml", "-o", "coverage.xml"], cwd=repo, check=True, capture_output=True)
    return repo


def run_diff_cover(repo: Path, fail_under: Decimal | None, lines: list[str]) -> ExitCode:
    return policy.diff_cover(
        repo=repo, coverage_xml=repo / "coverage.xml", compare_branch="main", fail_under=fail_under,
        reports_dir=repo / "reports", out=lines.append,
    )  # fmt: skip


def test_diff_cover_fails_on_an_uncovered_changed_line(tmp_path: Path, capsys: Capture) -> None:
    repo = measured_repo(tmp_path, calls="sign(1)\nsign(-1)")
    lines: list[str] = []
    assert run_diff_cover(repo, Decimal(90), lines) == ExitCode.BELOW_TARGET
    # Changed statements: def sign, if, 2 returns, def never_called, its return: 5 of 6 ran.
    assert "pkg/mod.py (83.3%): Missing lines 12" in lines[0]
    err = capsys.readouterr().err
    assert err.startswith("test_runner.py: diff-cover failed: 5 of 6 changed lines covered (83.33%) since main, under --fail-under 90%; ")
    assert {p.name for p in (repo / "reports").iterdir()} == {"diff-cover.html", "diff-cover.md", "diff-cover.json"}
    assert "never_called" in (repo / "reports" / "diff-cover.html").read_text(encoding="utf-8")


def test_diff_cover_counts_a_partial_branch_as_uncovered(tmp_path: Path, capsys: Capture) -> None:
    # sign(1) only: `if x > 0` never goes to `return "other"`; that line is missed, and the if
    # line itself is a partial branch.
    repo = measured_repo(tmp_path, calls="sign(1)\nnever_called()")
    lines: list[str] = []
    assert run_diff_cover(repo, Decimal(100), lines) == ExitCode.BELOW_TARGET
    assert "pkg/mod.py (66.7%): Missing lines 6,8" in lines[0]
    assert "4 of 6 changed lines covered (66.66%)" in capsys.readouterr().err


def test_diff_cover_passes_at_or_above_fail_under(tmp_path: Path, capsys: Capture) -> None:
    repo = measured_repo(tmp_path, calls="sign(1)\nsign(-1)\nnever_called()")
    assert run_diff_cover(repo, Decimal(100), []) == ExitCode.OK
    assert capsys.readouterr().err.startswith("test_runner.py: diff-cover: 6 of 6 changed lines covered (100%) since main; ")


def test_diff_cover_without_fail_under_only_reports(tmp_path: Path) -> None:
    repo = measured_repo(tmp_path, calls="pass")
    assert run_diff_cover(repo, None, []) == ExitCode.OK


def test_diff_cover_without_coverage_xml_is_no_coverage_data(tmp_path: Path) -> None:
    with pytest.raises(NoCoverageData, match=r"coverage.xml does not exist; run \./test_runner\.py --coverage api all first"):
        run_diff_cover(tmp_path, None, [])


def test_compare_branch_defaults_to_main_when_there_is_no_origin(tmp_path: Path) -> None:
    repo = measured_repo(tmp_path, calls="pass")
    assert policy.resolve_compare_branch(repo, None) == ("main", "diff-cover: there is no origin/main; comparing with main")
    git(repo, "checkout", "-q", "main")
    assert policy.resolve_compare_branch(repo, None) == (
        "main", "diff-cover: there is no origin/main; comparing with main (it is HEAD: only uncommitted changes count)"
    )  # fmt: skip


def test_compare_branch_prefers_origin_main(tmp_path: Path) -> None:
    repo = measured_repo(tmp_path, calls="pass")
    git(repo, "update-ref", "refs/remotes/origin/main", "main")
    assert policy.resolve_compare_branch(repo, None) == ("origin/main", None)


def test_compare_branch_asked_for_must_exist(tmp_path: Path) -> None:
    repo = measured_repo(tmp_path, calls="pass")
    assert policy.resolve_compare_branch(repo, "HEAD~1") == ("HEAD~1", None)
    with pytest.raises(UsageError, match=r"^--compare-branch origin/develop: no such branch or commit here"):
        policy.resolve_compare_branch(repo, "origin/develop")


def test_compare_branch_without_main_or_origin_asks_for_one(tmp_path: Path) -> None:
    repo = measured_repo(tmp_path, calls="pass")
    git(repo, "branch", "-q", "-m", "main", "trunk")
    with pytest.raises(UsageError, match=r"^there is no origin/main or main to compare with; pass --compare-branch BRANCH \(or a commit\)$"):
        policy.resolve_compare_branch(repo, None)


def test_compare_branch_outside_git_is_a_project_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="is not a git checkout"):
        policy.resolve_compare_branch(tmp_path, None)


# --- who-covers ------------------------------------------------------------------------------------

WHO_MODULE = """\
def shared(x):
    # a comment
    if x:
        return "yes"
    return "no"


def untested():
    return 0
"""
RECORD = """\
import coverage
cov = coverage.Coverage(data_file=".coverage", config_file=".coveragerc")
cov.start()
import pkg.who as who  # imported before any test: the empty context
who.shared(0)  # as a module-level call at import would, also in the empty context
if {contexts}:
    cov.switch_context("tests/test_who.py::test_yes|setup")
    who.shared(1)
    cov.switch_context("tests/test_who.py::test_yes|run")
    who.shared(1)
    cov.switch_context("tests/test_who.py::test_no|run")
    who.shared(0)
else:
    who.shared(1)
cov.stop()
cov.save()
"""


def recorded(tmp_path: Path, *, contexts: bool = True) -> Path:
    """A small project with data recorded the way pytest-cov's --cov-context=test records it."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "pkg" / "who.py").write_text(WHO_MODULE, encoding="utf-8")
    (tmp_path / "other.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\nsource = pkg\n[report]\nexclude_also =\n    def untested\n", encoding="utf-8")
    (tmp_path / "record.py").write_text(RECORD.format(contexts=contexts), encoding="utf-8")
    subprocess.run([sys.executable, "record.py"], cwd=tmp_path, check=True)
    return tmp_path


def who(root: Path, location: str) -> list[str]:
    job = policy.parse_location(location)
    lines: list[str] = []
    code = policy.who_covers(
        data_file=root / ".coverage", rcfile=root / ".coveragerc", project_dir=root, file=job.file, line=job.line, out=lines.append
    )
    assert code == ExitCode.OK
    return lines


def test_who_covers_lists_the_tests_that_ran_a_line(tmp_path: Path) -> None:
    root = recorded(tmp_path)
    assert who(root, "pkg/who.py:4") == ["pkg/who.py:4 ran in 1 test:", "  tests/test_who.py::test_yes (setup, run)"]
    assert who(root, "pkg/who.py:5") == [
        "pkg/who.py:5 ran in 1 test; also before the first test started (imports, collection):",
        "  tests/test_who.py::test_no",
    ]
    assert who(root, "pkg/who.py:3") == [
        "pkg/who.py:3 ran in 2 tests; also before the first test started (imports, collection):",
        "  tests/test_who.py::test_no",
        "  tests/test_who.py::test_yes (setup, run)",
    ]


def test_who_covers_warns_when_the_file_changed_after_the_recording(tmp_path: Path, capsys: Capture) -> None:
    root = recorded(tmp_path)
    data_time = (root / ".coverage").stat().st_mtime
    os.utime(root / "pkg" / "who.py", (data_time + 10, data_time + 10))
    assert who(root, "pkg/who.py:5")[0].startswith("pkg/who.py:5 ran in 1 test")
    assert capsys.readouterr().err == "test_runner.py: warning: pkg/who.py changed after .coverage was recorded; its lines may have moved\n"


def test_who_covers_says_nothing_of_a_file_older_than_the_data(tmp_path: Path, capsys: Capture) -> None:
    root = recorded(tmp_path)
    who(root, "pkg/who.py:5")
    assert capsys.readouterr().err == ""


def test_who_covers_names_lines_run_outside_any_test(tmp_path: Path) -> None:
    root = recorded(tmp_path)
    assert who(root, "pkg/who.py:1") == ["pkg/who.py:1 ran in no test, only before the first test started (imports, collection)"]


@pytest.mark.parametrize(
    ("location", "error", "message"),
    [
        ("pkg/who.py:2", UsageError, r"^pkg/who.py:2 is not where a statement starts \(blank, a comment, .*\); the statement before it starts at line 1$"),
        ("pkg/who.py:9", UsageError, r"^pkg/who.py:9 is excluded from measurement"),
        ("pkg/who.py:99", UsageError, r"^pkg/who.py has 9 lines; there is no line 99$"),
        ("pkg/nosuch.py:1", UsageError, r"^pkg/nosuch.py: no such file$"),
        ("other.py:1", NoCoverageData, r"^other.py was not measured in the recorded run"),
    ],
)  # fmt: skip
def test_who_covers_one_line_errors(tmp_path: Path, location: str, error: type, message: str) -> None:
    root = recorded(tmp_path)
    with pytest.raises(error, match=message):
        who(root, location)


def test_who_covers_a_statement_that_did_not_run(tmp_path: Path) -> None:
    root = recorded(tmp_path)
    (root / ".coveragerc").write_text("[run]\nbranch = True\nsource = pkg\n", encoding="utf-8")  # untested() counts again
    with pytest.raises(NoCoverageData, match=r"^no recorded test ran pkg/who.py:9: it is a statement, and it was not executed$"):
        who(root, "pkg/who.py:9")


def test_who_covers_data_without_contexts_says_to_record_them(tmp_path: Path) -> None:
    root = recorded(tmp_path, contexts=False)
    with pytest.raises(NoCoverageData, match=r"has no per-test contexts: run with --contexts, e\.g\. \./test_runner\.py --contexts api all$"):
        who(root, "pkg/who.py:4")


def test_who_covers_without_data(tmp_path: Path) -> None:
    (tmp_path / "mod.py").write_text("x = 1\n", encoding="utf-8")
    with pytest.raises(NoCoverageData, match=r"does not exist; run \./test_runner\.py --contexts api all \(or a TARGET\) first$"):
        who(tmp_path, "mod.py:1")


@pytest.mark.parametrize("text", ["fx.py", "fx.py:", ":3", "fx.py:x", "fx.py:0", "fx.py:-1"])
def test_parse_location_refuses_what_is_not_file_colon_line(text: str) -> None:
    with pytest.raises(UsageError, match=r"^expected FILE:LINE such as backend/app/services/fx.py:42, got "):
        policy.parse_location(text)


def test_parse_location_keeps_colons_in_the_file_name() -> None:
    assert policy.parse_location("C:/x/fx.py:42") == policy.WhoCoversJob("C:/x/fx.py", 42)


# --- badge ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("display", "colour"),
    [("59.9", "red"), ("60.0", "orange"), ("74.9", "orange"), ("75.0", "yellow"), ("89.9", "yellow"), ("90.0", "green"), ("100.0", "green")],
)
def test_badge_colour_by_threshold_of_the_value_shown(tmp_path: Path, display: str, colour: str) -> None:
    report_path = write_coverage_json(tmp_path / "coverage.json", {"a.py": (1, 1, 0, 0)})
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report["totals"]["percent_covered_display"] = display
    report_path.write_text(json.dumps(report), encoding="utf-8")
    output = tmp_path / "reports" / "coverage-badge.svg"
    assert policy.badge(coverage_json=report_path, output=output) == (display, colour)
    svg = output.read_text(encoding="utf-8")
    assert f">{display}%<" in svg
    assert anybadge.colors.Color[colour.upper()].value in svg
    assert ">coverage<" in svg


def test_badge_without_coverage_json_is_no_coverage_data(tmp_path: Path) -> None:
    with pytest.raises(NoCoverageData, match="coverage.json does not exist"):
        policy.badge(coverage_json=tmp_path / "coverage.json", output=tmp_path / "badge.svg")
    assert not (tmp_path / "badge.svg").exists()


def test_runner_badge_writes_the_svg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture, in_venv: None) -> None:
    write_coverage_json(tmp_path / "coverage.json", MEETS)  # 84.3
    monkeypatch.setattr(policy, "COVERAGE_JSON", tmp_path / "coverage.json")
    monkeypatch.setattr(policy, "BADGE_FILE", tmp_path / "reports" / "coverage-badge.svg")
    assert cli.main(["badge"]) == ExitCode.OK
    assert capsys.readouterr().err.startswith("test_runner.py: badge: coverage 84.3% (yellow) written to ")
    assert (tmp_path / "reports" / "coverage-badge.svg").is_file()


def test_diff_cover_fallback_note_is_said_once_by_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    """prepare runs twice (on the system python3, then in the venv): the note waits for run."""
    repo = measured_repo(tmp_path, calls="sign(1)")
    monkeypatch.setattr(policy, "PROJECT_DIR", repo)
    job = policy.prepare_diff_cover(cli.parse_args(["diff-cover", "--fail-under", "80"]))
    assert (capsys.readouterr().err, job) == ("", policy.DiffCoverJob("main", Decimal(80), job.note))
    monkeypatch.setattr(policy, "COVERAGE_XML", repo / "coverage.xml")
    monkeypatch.setattr(policy, "REPORTS_DIR", repo / "reports")
    assert policy.run_diff_cover(job) == ExitCode.BELOW_TARGET
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "test_runner.py: diff-cover: there is no origin/main; comparing with main"
    assert err[1].startswith("test_runner.py: diff-cover failed: 3 of 6 changed lines covered (50%) since main")
