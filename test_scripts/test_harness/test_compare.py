"""Tests for ./test_runner.py compare: test_scripts/compare/ (configs, pythons, analyze, report, run)
and the compare rows of test_scripts/runner/cli.py.

Names, rc files, the analysis and the reports are tested on synthetic data, in process. The
end-to-end tests run compare for real on compare_fixtures/notes/, a tiny async SQLAlchemy app
copied to a temporary directory with a .coveragerc of the test's choosing. Its connect listener
(the shape of backend/app/db/engine.py) loses its last three lines under coverage's default
``concurrency = thread`` on every run, as measured with coverage 7.17.3 and SQLAlchemy 2.1.9;
``thread,greenlet`` measures them.
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import coverage
import pytest

from test_scripts.compare import analyze, configs, pythons, report, run
from test_scripts.compare.configs import Config, ConfigError, parse_names
from test_scripts.runner import cli
from test_scripts.runner.cli import ExitCode

NOTES = Path(__file__).resolve().parent / "compare_fixtures" / "notes"
THIS_PYTHON = pythons.Python("%d.%d.%d" % sys.version_info[:3], sys.executable)
PROJECT_RC = """\
[run]
source = backend/app
branch = True
parallel = True
concurrency = thread,greenlet
core = ctrace
timid = False
omit =
    # the entry point
    backend/app/cli.py

[report]
precision = 1
fail_under = 90
exclude_also =
    if TYPE_CHECKING:
    raise NotImplementedError

[html]
show_contexts = ${COVREF_SHOW_CONTEXTS-False}
"""

Capture = pytest.CaptureFixture[str]


def one(names: str) -> Config:
    [config] = parse_names(names)
    return config


def line_of(path: Path, snippet: str) -> int:
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if snippet in line]
    assert len(found) == 1, f"{snippet!r} is on lines {found} of {path}"
    return found[0]


# --- configuration names ------------------------------------------------------------------------


def test_parse_names_default_is_every_applicable_configuration() -> None:
    assert [c.name for c in parse_names(None)] == [
        "thread", "thread/branch", "greenlet", "gevent", "thread+greenlet", "thread+greenlet/branch",
        "thread+gevent", "sysmon", "slipcover", "slipcover/branch", "project", "runner",
    ]  # fmt: skip


def test_parse_names_branch_suffix_sets_branch_and_keeps_order() -> None:
    parsed = parse_names(" thread+greenlet/branch, thread ,thread+greenlet/branch,project")
    assert [(c.name, c.base, c.branch, c.concurrency, c.core) for c in parsed] == [
        ("thread+greenlet/branch", "thread+greenlet", True, ("thread", "greenlet"), None),
        ("thread", "thread", False, ("thread",), None),
        ("project", "project", None, None, None),
    ]


@pytest.mark.parametrize("text", ["bogus", "thread/lines", "thread,greenlet+thread", "thread/"])
def test_parse_names_unknown_name_lists_known_ones(text: str) -> None:
    bad = [part for part in text.split(",") if part not in configs.BASES][0]
    with pytest.raises(ConfigError) as raised:
        parse_names(text)
    assert str(raised.value) == (
        f"unknown configuration {bad!r}; known: thread, greenlet, gevent, thread+greenlet, thread+gevent, "
        "sysmon, slipcover, project, runner (each but project and runner also with /branch, "
        "e.g. thread+greenlet/branch)"
    )


def test_parse_names_project_takes_no_branch_suffix() -> None:
    with pytest.raises(ConfigError, match=r"^'project/branch': project is the project's rc file as it is"):
        parse_names("project/branch")


@pytest.mark.parametrize(("python", "refused"), [((3, 12, 1), True), ((3, 13, 0), True), ((3, 14, 0), False)])
def test_sysmon_branch_refused_before_314(python: tuple[int, ...], refused: bool) -> None:
    reason = configs.refusal(one("sysmon/branch"), python)
    if refused:
        assert reason is not None and reason.startswith("sysmon/branch needs Python 3.14+: on ")
        assert "falls back to the C tracer" in reason and "\n" not in reason
    else:
        assert reason is None
    assert configs.refusal(one("sysmon"), python) is None


def test_sysmon_skipped_before_312_only() -> None:
    reason = configs.skip_reason(one("sysmon"), (3, 11, 7))
    assert reason == "the sys.monitoring core needs Python 3.12+; this is 3.11.7"
    assert configs.skip_reason(one("sysmon"), (3, 12, 1)) is None
    assert configs.skip_reason(one("thread"), (3, 11, 7)) is None


# --- rc files -----------------------------------------------------------------------------------


@pytest.fixture
def project_rc(tmp_path: Path) -> Path:
    path = tmp_path / ".coveragerc"
    path.write_text(PROJECT_RC, encoding="utf-8")
    return path


def coverage_config(rc: Path) -> Any:
    """The configuration coverage itself reads from `rc`."""
    return coverage.Coverage(config_file=str(rc), data_file=None).config


def generated(name: str, project_rc: Path, tmp_path: Path) -> Path:
    return configs.write_rc(
        one(name),
        project_rc,
        tmp_path / name.replace("/", "-") / "coveragerc",
        data_file=tmp_path / "data" / ".coverage",
        sources=[tmp_path / "src"],
    )


def test_rc_thread_greenlet_branch_keeps_source_omit_and_exclusions(project_rc: Path, tmp_path: Path) -> None:
    rc = generated("thread+greenlet/branch", project_rc, tmp_path)
    config, project = coverage_config(rc), coverage_config(project_rc)
    assert (config.concurrency, config.branch, config.core) == (["thread", "greenlet"], True, None)
    assert (config.source, config.data_file) == ([str(tmp_path / "src")], str(tmp_path / "data" / ".coverage"))
    assert config.run_omit == project.run_omit == ["backend/app/cli.py"]
    assert config.exclude_list == project.exclude_list
    assert "if TYPE_CHECKING:" in config.exclude_list
    assert (config.precision, config.fail_under, config.parallel) == (1, 90.0, True)


def test_rc_thread_drops_the_projects_core_and_greenlet(project_rc: Path, tmp_path: Path) -> None:
    rc = generated("thread", project_rc, tmp_path)
    config = coverage_config(rc)
    assert (config.concurrency, config.branch, config.core, config.timid) == (["thread"], False, None, False)
    parser = configparser.RawConfigParser()
    parser.read(rc)
    assert not parser.has_option("run", "core") and not parser.has_option("run", "timid")


def test_rc_sysmon_sets_core_and_line_coverage(project_rc: Path, tmp_path: Path) -> None:
    config = coverage_config(generated("sysmon", project_rc, tmp_path))
    assert (config.concurrency, config.branch, config.core) == (["thread"], False, "sysmon")


def test_rc_project_changes_only_data_file_and_source(project_rc: Path, tmp_path: Path) -> None:
    rc = generated("project", project_rc, tmp_path)
    config, original = vars(coverage_config(rc)), vars(coverage_config(project_rc))
    changed = {key for key in original if config[key] != original[key]}
    bookkeeping = {"config_file", "config_files_attempted", "config_files_read", "_config_contents"}
    assert changed == {"data_file", "source", *bookkeeping}
    assert "show_contexts = ${COVREF_SHOW_CONTEXTS-False}" in rc.read_text(encoding="utf-8")


def test_rc_sources_reads_comma_and_newline_lists(tmp_path: Path) -> None:
    rc = tmp_path / "rc"
    rc.write_text("[run]\nsource =\n    backend/app, lib\n    more\n", encoding="utf-8")
    assert configs.rc_sources(rc) == ["backend/app", "lib", "more"]


# --- finding Pythons ---------------------------------------------------------------------------

INSTALLED = {"3.11.7": "/py/3.11.7", "3.12.1": "/py/3.12.1", "3.12.10": "/py/3.12.10", "3.10.13": "/py/3.10.13"}


def test_find_picks_the_newest_patch_release_in_the_order_asked() -> None:
    found = pythons.find(["3.12", "3.11.7"], installed=INSTALLED)
    assert found == [pythons.Python("3.12.10", "/py/3.12.10"), pythons.Python("3.11.7", "/py/3.11.7")]


def test_find_missing_version_is_one_line_naming_what_was_found() -> None:
    with pytest.raises(pythons.PythonNotFound) as raised:
        pythons.find(["3.11", "3.13", "3.12.2"], installed=INSTALLED)
    assert str(raised.value) == (
        "Python 3.13, 3.12.2 not found (pyenv versions or python3.N on PATH); found: 3.11.7, 3.12.1, 3.12.10"
    )


@pytest.mark.parametrize("text", ["3", "three", "3.12,", "3.12;3.13", ""])
def test_parse_versions_rejects_what_is_not_a_version(text: str) -> None:
    if text == "3.12,":
        assert pythons.parse_versions(text) == ["3.12"]
        return
    with pytest.raises(ValueError, match="^--python takes versions like 3.12 or 3.12.1, comma separated; got "):
        pythons.parse_versions(text)


# --- the analysis, on synthetic data -----------------------------------------------------------

TRUTH = {
    "a.py": {"statements": [1, 2, 3, 4, 5], "executed": [1, 2, 3, 4]},
    "b.py": {"statements": [1, 2, 3, 4], "executed": [1, 2]},
    "c.py": {"statements": [1, 2], "executed": []},
}


def measured_files(**changes: list[int]) -> dict[str, dict[str, list[int]]]:
    """The truth's files with some files' executed lines replaced (keys a, b, c)."""
    files = {path: dict(entry) for path, entry in TRUTH.items()}
    for name, executed in changes.items():
        files[f"{name}.py"]["executed"] = executed
    return files


def test_compare_config_counts_lost_and_phantom_per_file_and_in_total() -> None:
    # a.py: 3 and 4 ran but are reported missed; b.py: 3 reported covered, never ran; c.py: 2 too.
    figures = analyze.compare_config(TRUTH, measured_files(a=[1, 2], b=[1, 2, 3], c=[2]))
    assert figures["lost_lines"] == {"a.py": [3, 4]}
    assert figures["phantom_lines"] == {"b.py": [3], "c.py": [2]}
    assert (figures["lost"], figures["phantom"]) == (2, 2)
    assert (figures["statements"], figures["executed"], figures["percent"]) == (11, 6, 100 * 6 / 11)
    assert figures["files"]["a.py"] == {"statements": 5, "executed": 2, "percent": 40.0}
    assert figures["files"]["c.py"] == {"statements": 2, "executed": 1, "percent": 50.0}


def test_compare_config_identical_lines_are_exact() -> None:
    figures = analyze.compare_config(TRUTH, measured_files())
    assert (figures["lost"], figures["phantom"], figures["lost_lines"], figures["phantom_lines"]) == (0, 0, {}, {})
    assert figures["percent"] == 100 * 6 / 11


def synthetic_result(
    walls: dict[str, float], executed: dict[str, dict[str, list[int]]], skipped: dict[str, str] | None = None
) -> dict[str, Any]:
    """build_result over TRUTH with configurations whose executed lines and wall times are given."""
    skipped = skipped or {}
    names = [*executed, *skipped]
    measured = {
        "python": "3.12.1",
        "coverage_version": "7.17.3",
        "truth": {"files": TRUTH, "engines": ["sysmon"]},
        "configs": {name: {"files": measured_files(**lines)} for name, lines in executed.items()},
    }
    configs_in = [{"name": name, **({"skipped": skipped[name]} if name in skipped else {})} for name in names]
    runs = {name: {"wall_s": wall, "warnings": [], "core": "ctrace"} for name, wall in walls.items()}
    meta = {"suite": "api all", "transport": "threaded", "db": "sqlite", "command": "./test_runner.py compare"}
    return analyze.build_result(meta=meta, measured=measured, runs=runs, configs=configs_in, plain_wall_s=10.0)


def test_verdict_names_exact_configs_fastest_exact_and_project() -> None:
    result = synthetic_result(
        walls={"thread": 15.0, "thread+greenlet": 21.0, "sysmon": 10.5, "project": 10.0},
        executed={"thread": {"a": [1, 2]}, "thread+greenlet": {}, "sysmon": {}, "project": {}},
    )
    assert result["exact"] == ["thread+greenlet", "sysmon", "project"]
    # The project's rc is what is judged, not a candidate: sysmon is recommended though project ran faster.
    assert (result["fastest_exact"], result["recommended"], result["project_exact"]) == ("sysmon", "sysmon", True)
    assert [c["ratio"] for c in result["configs"]] == [1.5, 2.1, 1.05, 1.0]


def test_verdict_project_inexact_and_nothing_recommended_when_none_exact() -> None:
    result = synthetic_result(
        walls={"thread": 15.0, "project": 16.0},
        executed={"thread": {"a": [1, 2]}, "project": {"b": [1, 2, 4]}},
    )
    assert (result["exact"], result["recommended"], result["project_exact"]) == ([], None, False)
    assert [(c["lost"], c["phantom"]) for c in result["configs"]] == [(2, 0), (0, 1)]


def test_verdict_project_exact_is_none_when_not_measured() -> None:
    result = synthetic_result(walls={"thread": 15.0}, executed={"thread": {}})
    assert (result["exact"], result["recommended"], result["project_exact"]) == (["thread"], "thread", None)


def test_result_has_the_issue_schema() -> None:
    result = synthetic_result(
        walls={"thread": 15.0},
        executed={"thread": {"a": [1, 2]}},
        skipped={"sysmon": "the sys.monitoring core needs Python 3.12+; this is 3.11.7"},
    )
    assert {"python", "coverage_version", "suite", "transport", "db", "truth", "configs", "recommended"} <= set(result)
    assert result["truth"]["percent"] == 100 * 6 / 11 and result["truth"]["files"] == TRUTH
    thread, sysmon = result["configs"]
    keys = {"name", "percent", "lost", "phantom", "lost_lines", "phantom_lines", "wall_s", "ratio", "warnings"}
    assert keys <= set(thread)
    figures = (thread["percent"], thread["lost_lines"], thread["wall_s"], thread["ratio"])
    assert figures == (400 / 11, {"a.py": [3, 4]}, 15.0, 1.5)
    assert sysmon == {"name": "sysmon", "skipped": "the sys.monitoring core needs Python 3.12+; this is 3.11.7"}
    json.dumps(result)  # it must serialise as it is


@pytest.mark.parametrize(
    ("value", "shown"), [(99.96, "99.9"), (100.0, "100.0"), (0.04, "0.1"), (0.0, "0.0"), (54.56, "54.6")]
)
def test_display_percent_never_rounds_to_complete_or_empty(value: float, shown: str) -> None:
    assert analyze.display_percent(value) == shown


# --- the reports --------------------------------------------------------------------------------


def test_markdown_tables_and_verdict() -> None:
    result = synthetic_result(
        walls={"thread": 15.0, "thread+greenlet": 21.0},
        executed={"thread": {"a": [1, 2], "b": [1, 2, 3]}, "thread+greenlet": {}},
    )
    result["truth_wall_s"] = 12.0
    text = report.markdown([result])
    assert text.startswith("# Coverage per configuration, against the truth\n")
    section = text[text.index("## Python 3.12.1") :]
    assert section.splitlines()[:14] == [
        "## Python 3.12.1, coverage 7.17.3: api all (sqlite, threaded)",
        "",
        "```",
        "./test_runner.py compare",
        "```",
        "",
        "| File | Stmts | truth | thread | thread+greenlet |",
        "|---|---:|---:|---:|---:|",
        "| a.py | 5 | 80.0 | 40.0 -2 | 80.0 |",
        "| b.py | 4 | 50.0 | 75.0 +1 | 50.0 |",
        "| c.py | 2 | 0.0 | 0.0 | 0.0 |",
        "| **TOTAL** | **11** | **54.5** | **45.5 -2 +1** | **54.5** |",
        "",
        "| Run | line % | lost | phantom | wall s | ratio | core | warnings |",
    ]
    assert "| thread | 45.5 | 2 | 1 | 15.0 | 1.50x | ctrace |  |" in section
    assert "- exact (0 lost, 0 phantom): thread+greenlet" in section
    assert "- fastest exact (recommended): thread+greenlet (line only, 2.10x the plain run)" in section
    assert "- the project's rc file (project): not measured (not in --configs)" in section


def test_terminal_table_marks_lost_and_phantom(capsys: Capture) -> None:
    result = synthetic_result(walls={"thread": 15.0}, executed={"thread": {"a": [1, 2], "b": [1, 2, 3]}})
    report.print_result(result)
    out = capsys.readouterr().out
    assert re.search(r"a\.py +5 +80\.0 +40\.0 -2 *\n", out)
    assert re.search(r"TOTAL +11 +54\.5 +45\.5 -2 \+1 *\n", out)
    assert "verdict: exact (0 lost, 0 phantom): none\n" in out
    assert "verdict: fastest exact: none (no configuration is exact)\n" in out


# --- the command line ---------------------------------------------------------------------------


def test_compare_is_in_the_command_table_and_usage() -> None:
    assert cli.COMMANDS["compare"].prepare is cli.prepare_compare
    assert "test_runner.py compare [CATEGORY [TARGET]] [--configs LIST]" in cli.USAGE_TEXT


def test_compare_exit_code_is_documented() -> None:
    assert int(ExitCode.COVERAGE_INEXACT) == 65
    assert "project's .coveragerc, or what --coverage runs, lost or invented" in cli.EXIT_CODE_MEANINGS[ExitCode.COVERAGE_INEXACT]


def test_prepare_compare_defaults_to_api_all_every_config() -> None:
    job = cli.prepare_compare(cli.parse_args(["compare"]))
    assert (job.category, job.target, job.paths) == ("api", "all", ("test_scripts/test_api",))
    assert job.sources == ("backend/app",)
    assert job.config_names == configs.DEFAULT_NAMES
    assert (job.db, job.transport, job.pythons, job.pytest_args) == ("sqlite", "threaded", (), ())
    assert job.command == "./test_runner.py compare api all --db sqlite --transport threaded"


def test_prepare_compare_patterns_measures_the_pattern_modules() -> None:
    if not (cli.PROJECT_DIR / "test_scripts" / "test_patterns").is_dir():
        pytest.skip("test_scripts/test_patterns is not there yet")
    args = cli.parse_args(["--db", "sqlite", "compare", "patterns", "--configs", "thread", "-j", "1"])
    job = cli.prepare_compare(args)
    assert (job.paths, job.sources, job.config_names, job.jobs) == (
        ("test_scripts/test_patterns",),
        ("test_scripts/patterns",),
        ("thread",),
        1,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "--configs", "thread,bogus"], "unknown configuration 'bogus'; known: thread, greenlet, "
         "gevent, thread+greenlet, thread+gevent, sysmon, slipcover, project, runner (each but project and "
         "runner also with /branch, e.g. thread+greenlet/branch)"),
        (["compare", "--python", "3.11,2.0"], None),
        (["-k", "x", "compare"], "-k is a test option; compare does not take it"),
        (["compare", "nosuch"], "argument CATEGORY: invalid choice: 'nosuch' "
         "(choose from 'api', 'services', 'db', 'harness', 'patterns', 'all')"),
        (["compare", "api", "nosuchmodule"], None),
        (["compare", "-j", "0"], "argument -j/--jobs: expected a number of runs at a time (1 or more), got '0'"),
    ],
)  # fmt: skip
def test_compare_usage_error_is_one_line(args: list[str], message: str | None, capsys: Capture) -> None:
    assert cli.main(args) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("test_runner.py: error: ")
    if message is not None:
        assert err == f"test_runner.py: error: {message}\n"


def test_compare_missing_python_lists_the_ones_found(capsys: Capture) -> None:
    assert cli.main(["compare", "--python", "3.11,3.99"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert re.fullmatch(
        r"test_runner\.py: error: Python 3\.99 not found \(pyenv versions or python3\.N on PATH\); found: .*\n", err
    )
    assert THIS_PYTHON.version in err


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="sysmon/branch is measurable on 3.14+")
def test_compare_sysmon_branch_refused_before_anything_runs(capsys: Capture) -> None:
    assert cli.main(["compare", "--configs", "thread,sysmon/branch"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.startswith("test_runner.py: error: sysmon/branch needs Python 3.14+: on ")
    assert "falls back to the C tracer" in err and err.count("\n") == 1


# --- end to end, on compare_fixtures/notes -------------------------------------------------------


def notes_project(tmp_path: Path, concurrency: str) -> Path:
    """A copy of the notes fixture whose .coveragerc asks for `concurrency`."""
    project = tmp_path / "project"
    shutil.copytree(NOTES, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / ".coveragerc").write_text(
        f"[run]\nsource = notes_app\nbranch = True\nparallel = True\nconcurrency = {concurrency}\n", encoding="utf-8"
    )
    return project


def compare_notes(
    project: Path, names: str, *, test_paths: tuple[str, ...] = ("check_notes.py",)
) -> tuple[ExitCode, list[str]]:
    said: list[str] = []
    suite = run.Suite(
        project_dir=project,
        project_rc=project / ".coveragerc",
        sources=(project / "notes_app",),
        test_paths=test_paths,
        name="notes all",
    )
    options = run.Options(configs=tuple(parse_names(names)), jobs=2, reports_dir=project / "reports", command="notes")
    return run.compare(suite, [THIS_PYTHON], options, say=said.append), said


def read_result(project: Path) -> dict[str, Any]:
    return json.loads((project / "reports" / "compare.json").read_text(encoding="utf-8"))


def test_e2e_thread_loses_the_listener_lines_thread_greenlet_is_exact(tmp_path: Path, capsys: Capture) -> None:
    project = notes_project(tmp_path, "thread,greenlet")
    status, said = compare_notes(project, "thread,thread+greenlet")
    assert status == ExitCode.OK, said
    result = read_result(project)
    thread, greenlet = result["configs"]
    engine = NOTES / "notes_app" / "engine.py"
    # The listener's lines after its first switch back to the event loop's greenlet.
    after_switch = [line_of(engine, s) for s in ('"PRAGMA foreign_keys=ON"', '"PRAGMA busy_timeout=5000"', "close()")]
    assert (thread["lost_lines"], thread["phantom_lines"]) == ({"notes_app/engine.py": after_switch}, {})
    assert (greenlet["lost"], greenlet["phantom"]) == (0, 0)
    verdict = (result["exact"], result["recommended"], result["project_exact"])
    assert verdict == (["thread+greenlet"], "thread+greenlet", None)
    truth_engine = result["truth"]["files"]["notes_app/engine.py"]
    assert truth_engine["executed"] == truth_engine["statements"]  # the suite runs every line of it
    if sys.version_info < (3, 14):  # 3.14 may pick sysmon for thread by itself
        assert [c["core"] for c in result["configs"]] == ["ctrace", "ctrace"]
    assert (project / "reports" / f"compare-{THIS_PYTHON.short}.json").read_text(encoding="utf-8") == (
        project / "reports" / "compare.json"
    ).read_text(encoding="utf-8")
    markdown = (project / "reports" / "compare.md").read_text(encoding="utf-8")
    assert "| notes_app/engine.py | 11 | 100.0 | 72.7 -3 | 100.0 |" in markdown
    assert "verdict: exact (0 lost, 0 phantom): thread+greenlet" in capsys.readouterr().out


def test_e2e_guard_fails_when_the_project_rc_lacks_greenlet(tmp_path: Path) -> None:
    project = notes_project(tmp_path, "thread")
    status, said = compare_notes(project, "project")
    assert status == ExitCode.COVERAGE_INEXACT
    result = read_result(project)
    [config] = result["configs"]
    assert (config["name"], config["lost"], config["phantom"], result["project_exact"]) == ("project", 3, 0, False)
    assert (config["concurrency"], config["branch"]) == (["thread"], True)  # as the rc said, read back by the probe
    assert said[-1] == (
        f"{THIS_PYTHON.version}: the project's rc file (.coveragerc) is not exact: "
        "3 executed lines reported missed, 0 reported covered that never ran"
    )


def test_e2e_guard_passes_when_the_project_rc_has_thread_greenlet(tmp_path: Path) -> None:
    project = notes_project(tmp_path, "thread,greenlet")
    status, said = compare_notes(project, "project")
    assert status == ExitCode.OK, said
    assert read_result(project)["project_exact"] is True


def test_e2e_failing_tests_fail_compare_naming_the_run_and_its_log(tmp_path: Path) -> None:
    project = notes_project(tmp_path, "thread,greenlet")
    (project / "check_broken.py").write_text("def test_broken():\n    assert 1 == 2\n", encoding="utf-8")
    status, said = compare_notes(project, "thread", test_paths=("check_notes.py", "check_broken.py"))
    assert status == ExitCode.TESTS_FAILED
    short = THIS_PYTHON.short
    failed = sorted(line for line in said if " run failed " in line)
    assert failed == [
        f"{short}: the {name} run failed (pytest exit 1); its output is in reports/compare/{short}/{name}.log"
        for name in ("plain", "thread", "truth")
    ]
    assert "assert 1 == 2" in (project / "reports" / "compare" / short / "thread.log").read_text(encoding="utf-8")
    assert not (project / "reports" / "compare.json").exists()


def test_e2e_source_edited_during_the_runs_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = notes_project(tmp_path, "thread,greenlet")
    service = project / "notes_app" / "service.py"
    real_execute = run.execute

    def execute_then_edit(*args: Any, **kwargs: Any) -> None:
        real_execute(*args, **kwargs)
        service.write_text(service.read_text(encoding="utf-8") + "\nEDITED = True\n", encoding="utf-8")

    monkeypatch.setattr(run, "execute", execute_then_edit)
    with pytest.raises(run.SourceChanged) as raised:
        compare_notes(project, "thread")
    assert str(raised.value) == (
        "notes_app/service.py changed while compare ran, so the runs measured different code; "
        "run compare again on a tree nobody is editing"
    )
