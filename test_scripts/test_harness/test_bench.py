"""Tests for `./test_runner.py bench`: test_scripts/runner/bench.py (the command line) and
test_scripts/bench/ (the statistics, the targets, bench.json).

No test here times anything against a limit: figures on a shared machine are the benchmark's to
print, not a test's to assert. The one real run (`server`, with its request counts cut down)
checks that the section measures and reports, not how fast.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from test_scripts.bench import compare_cost, main, overhead, report, server
from test_scripts.bench.common import BenchError
from test_scripts.bench.stats import interleaved, paired_ratios, ratio, summarize
from test_scripts.compare.pythons import Python
from test_scripts.compare.run import Suite
from test_scripts.runner import bench as bench_command
from test_scripts.runner import cli
from test_scripts.runner.base import ExitCode, UsageError

# --- statistics ----------------------------------------------------------------------------------


def test_summarize_odd_count_is_middle_value_and_range() -> None:
    summary = summarize([3.0, 1.0, 2.0, 10.0, 4.0])
    assert (summary.median, summary.low, summary.high, summary.count) == (3.0, 1.0, 10.0, 5)


def test_summarize_even_count_averages_the_middle_two() -> None:
    assert summarize([4.0, 1.0, 2.0, 3.0]).median == 2.5


def test_summarize_as_dict_rounds() -> None:
    assert summarize([1.23456, 2.0]).as_dict(2) == {"median": 1.62, "min": 1.23, "max": 2.0, "n": 2}


def test_summarize_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        summarize([])


def test_ratio_and_zero_baseline() -> None:
    assert ratio(3.0, 2.0) == 1.5
    with pytest.raises(ValueError, match="positive baseline"):
        ratio(1.0, 0.0)


def test_paired_ratios_divide_round_by_round() -> None:
    assert paired_ratios([20.0, 33.0, 12.0], [10.0, 30.0, 12.0]) == [2.0, 1.1, 1.0]


def test_paired_ratios_refuse_unpaired_rounds() -> None:
    with pytest.raises(ValueError, match="2 values against 3 baseline runs"):
        paired_ratios([1.0, 2.0], [1.0, 2.0, 3.0])


def test_interleaved_runs_every_name_once_per_round_in_order() -> None:
    assert interleaved(["plain", "thread", "sysmon"], 2) == [
        (1, "plain"), (1, "thread"), (1, "sysmon"), (2, "plain"), (2, "thread"), (2, "sysmon"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("names", "rounds", "message"),
    [(["a"], 0, "rounds must be 1 or more, got 0"), (["a", "b", "a"], 1, "names repeat")],
)
def test_interleaved_refuses(names: list[str], rounds: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        interleaved(names, rounds)


# --- overhead: which configuration is the fastest exact one ---------------------------------------


def _entry(ratio_median: float, *, exact: bool | None, branch: bool) -> dict[str, Any]:
    return {"ratio": {"median": ratio_median}, "exact": exact, "branch": branch}


def test_fastest_exact_picks_lowest_ratio_of_the_kind() -> None:
    entries = {
        "plain": {"wall_s": {}},
        "thread": _entry(1.5, exact=False, branch=False),
        "sysmon": _entry(1.06, exact=True, branch=False),
        "slipcover": _entry(1.04, exact=True, branch=False),
        "thread+greenlet/branch": _entry(2.1, exact=True, branch=True),
        "slipcover/branch": _entry(1.09, exact=None, branch=True),
    }
    assert overhead.fastest_exact(entries, branch=False) == {"name": "slipcover", "ratio": 1.04}
    assert overhead.fastest_exact(entries, branch=True) == {"name": "thread+greenlet/branch", "ratio": 2.1}


def test_fastest_exact_is_none_without_an_exact_configuration() -> None:
    assert overhead.fastest_exact({"thread": _entry(1.5, exact=False, branch=False)}, branch=False) is None


def _compare_result(python: str) -> dict[str, Any]:
    return {
        "python": python,
        "configs": [
            {"name": "thread", "lost": 105, "phantom": 1, "branch": False},
            {"name": "sysmon", "lost": 0, "phantom": 0, "branch": False},
            {"name": "project", "lost": 0, "phantom": 0, "branch": True},
            {"name": "greenlet", "skipped": "needs something"},
        ],
    }


def test_exactness_reads_compare_result_of_the_same_python(tmp_path: Path) -> None:
    (tmp_path / "compare-3.12.json").write_text(json.dumps(_compare_result("3.12.1")))
    found, source = overhead.exactness(tmp_path, Python("3.12.1", "/py"))
    assert source == "compare-3.12.json"
    assert found == {
        "thread": {"exact": False, "branch": False},
        "sysmon": {"exact": True, "branch": False},
        "project": {"exact": True, "branch": True},
    }


def test_exactness_ignores_another_pythons_result(tmp_path: Path) -> None:
    (tmp_path / "compare.json").write_text(json.dumps(_compare_result("3.11.7")))
    assert overhead.exactness(tmp_path, Python("3.12.1", "/py")) == ({}, None)


# --- targets and bench.json ---------------------------------------------------------------------

SECTIONS: dict[str, Any] = {
    "overhead": {
        "pythons": [
            {"python": "3.12.1", "exactness_from": "compare-3.12.json",
             "fastest_exact": {"line": {"name": "sysmon", "ratio": 1.06}, "branch": {"name": "project", "ratio": 2.2}}},
            {"python": "3.11.7", "exactness_from": None, "fastest_exact": {"line": None, "branch": None}},
        ]
    },
    "compare": {"configs": ["a", "b", "c", "d", "e", "f"], "jobs": 2, "ratio": {"median": 5.1},
                "floor_ratio": {"median": 4.4}},
    "throughput": {"endpoints": {"convert": {"of_trivial": 0.92, "of_trivial_by_cpu": 0.15}}},
    "load": {"sqlite": {"seconds": {"median": 4.6}}, "postgres": {"skipped": "PostgreSQL is not reachable"}},
}  # fmt: skip


def test_check_targets_met_missed_and_unknown() -> None:
    assert report.check_targets(SECTIONS) == [
        {"name": "exact line coverage on 3.12", "target": "<= 1.15x no coverage", "measured": "sysmon 1.06x", "met": True},
        {"name": "exact branch coverage on 3.12", "target": "<= 1.15x no coverage", "measured": "project 2.20x", "met": False},
        {"name": "exact line coverage on 3.11", "target": "<= 1.15x no coverage",
         "measured": "no exactness known: run compare on it", "met": None},
        {"name": "exact branch coverage on 3.11", "target": "<= 1.15x no coverage",
         "measured": "no exactness known: run compare on it", "met": None},
        {"name": "compare over 6 configurations", "target": "<= 3x one plain run",
         "measured": "5.10x (its runs alone: 4.40x on 2 cores)", "met": False},
        {"name": "convert throughput", "target": ">= 50% of the trivial endpoint",
         "measured": "92% by req/s (15% by server CPU)", "met": True},
        {"name": "ECB history load, sqlite", "target": "<= 10 s", "measured": "4.6 s", "met": True},
        {"name": "ECB history load, postgres", "target": "<= 10 s", "measured": "PostgreSQL is not reachable", "met": None},
    ]  # fmt: skip


def test_check_targets_of_no_section_is_empty() -> None:
    assert report.check_targets({}) == []


def test_bench_json_shape(tmp_path: Path) -> None:
    result = report.build(
        command="./test_runner.py bench --rounds 1 --only load --db sqlite",
        options={"sections": ["load"], "rounds": 1, "db": "sqlite", "pythons": []},
        sections={"load": SECTIONS["load"]},
        started=datetime(2026, 11, 21, 15, 0, tzinfo=timezone.utc),
        elapsed_s=12.34,
        machine_info={"cores": 2, "cpu": "Some CPU", "system": "Linux", "load_average_at_start": [0.1, 0.2, 0.3]},
        version_info={"python": "3.11.7", "coverage": "7.17.3", "slipcover": "1.1.0", "SQLAlchemy": "2.1.9"},
    )
    report.write(result, tmp_path / "out" / "bench.json")
    written = json.loads((tmp_path / "out" / "bench.json").read_text())
    assert written == result
    assert list(written) == ["schema", "date", "command", "machine", "versions", "options", "note", "sections",
                             "targets", "elapsed_s"]  # fmt: skip
    assert (written["date"], written["elapsed_s"], written["machine"]["cores"]) == ("2026-11-21T15:00:00+00:00", 12.3, 2)
    assert [target["name"] for target in written["targets"]] == ["ECB history load, sqlite", "ECB history load, postgres"]


def test_versions_name_the_measuring_packages() -> None:
    found = report.versions()
    assert {"python", "coverage", "slipcover", "SQLAlchemy"} <= set(found)
    assert found["coverage"] is not None


# --- the command line ---------------------------------------------------------------------------


def test_parse_sections_runs_them_in_bench_order() -> None:
    assert bench_command.parse_sections("load, server") == ("server", "load")
    assert bench_command.parse_sections(None) == bench_command.SECTIONS == main.SECTIONS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "--only", "bogus,server"],
         "--only got 'bogus'; sections: overhead, compare, server, xdist, throughput, load (comma separated)"),
        (["bench", "--only", ","], "--only got nothing; sections: overhead, compare, server, xdist, throughput, load (comma separated)"),
        (["bench", "--rounds", "0"], "argument --rounds: expected a number of rounds (1 or more), got '0'"),
        (["bench", "--rounds", "x"], "argument --rounds: expected a number of rounds (1 or more), got 'x'"),
        (["bench", "--db", "mysql"], "argument --db: invalid choice: 'mysql' (choose from 'sqlite', 'postgres')"),
        (["bench", "--python", "3.x"], "--python takes versions like 3.12 or 3.12.1, comma separated; got '3.x'"),
        (["bench", "--only", "server", "--python", "3.11"],
         "--python chooses the Pythons of the overhead section, which --only leaves out"),
        (["-n", "2", "bench"], "-n is a test option; bench does not take it"),
        (["bench", "--", "-x"], "arguments after -- are for pytest; bench does not take them"),
    ],
)  # fmt: skip
def test_bench_usage_error_is_one_line_and_exit_usage(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(args) == ExitCode.USAGE
    assert capsys.readouterr() == ("", f"test_runner.py: error: {message}\n")


def test_bench_is_in_the_usage_text() -> None:
    assert f"{cli.PROG} {bench_command.USAGE}" in cli.USAGE_TEXT


def test_find_pythons_unknown_version_is_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^Python 3\.99 not found"):
        bench_command.find_pythons("3.99")


# --- one real run -------------------------------------------------------------------------------


def test_server_section_measures_and_writes_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server, "STARTS_PER_ROUND", 2)
    monkeypatch.setattr(server, "REQUESTS_PER_ROUND", 3)
    monkeypatch.setattr(server, "WARMUP_REQUESTS", 1)
    monkeypatch.setattr(server, "RESETS_PER_ROUND", 4)
    said: list[str] = []
    out = io.StringIO()
    result = main.run(sections=("server",), rounds=1, db="sqlite", postgres_url=None, pythons=(),
                      command="./test_runner.py bench --rounds 1 --only server", project_dir=tmp_path,
                      reports_dir=tmp_path / "reports", say=said.append, out=out)  # fmt: skip
    written = json.loads((tmp_path / "reports" / "bench.json").read_text())
    assert written == result
    measured = written["sections"]["server"]
    assert (measured["startup_s"]["n"], measured["shutdown_s"]["n"], measured["requests_per_path"]) == (2, 2, 3)
    assert set(measured["latency_ms"]) == {"threaded", "asgi"}
    assert set(measured["latency_ms"]["asgi"]) == set(measured["latency_ratio"]) == {"trivial", "convert"}
    assert measured["resets"] == 4
    assert {name: figures["n"] for name, figures in measured["reset_ms"].items()} == {"shared_engine": 4, "new_engine_and_loop": 4}
    assert written["targets"] == []
    assert said[0] == "bench: server ..."
    assert re.fullmatch(r"bench: server done in [\d.]+ s", said[1])
    assert said[2] == f"bench: written {tmp_path / 'reports' / 'bench.json'}"
    table = out.getvalue()
    assert "threaded test server (sqlite)" in table and "GET convert" in table and "per-test reset" in table


def test_compare_section_times_compare_against_a_plain_run(tmp_path: Path) -> None:
    # The notes fixture of compare's own tests: a small app whose suite runs in a second or two.
    notes = Path(__file__).resolve().parent / "compare_fixtures" / "notes"
    project = tmp_path / "project"
    shutil.copytree(notes, project, ignore=shutil.ignore_patterns("__pycache__"))
    (project / ".coveragerc").write_text("[run]\nsource = notes_app\nbranch = True\nconcurrency = thread,greenlet\n")
    suite = Suite(project_dir=project, project_rc=project / ".coveragerc", sources=(project / "notes_app",),
                  test_paths=("check_notes.py",), name="notes all")  # fmt: skip
    said: list[str] = []
    here = Python("%d.%d.%d" % sys.version_info[:3], sys.executable)
    measured = compare_cost.measure(python=here, suite=suite, rounds=1, work=tmp_path / "work", environ=os.environ,
                                    say=said.append, jobs=2, config_names="thread+greenlet")  # fmt: skip
    assert (measured["configs"], measured["jobs"], measured["rounds"]) == (["thread+greenlet"], 2, 1)
    assert [re.sub(r"[\d.]+ s$", "T", line) for line in said] == [
        f"compare {here.short}: round 1 plain: T", f"compare {here.short}: round 1 compare: T"
    ]
    plain, compare = measured["wall_s"]["plain"], measured["wall_s"]["compare"]
    assert plain["n"] == compare["n"] == measured["runs_wall_s"]["n"] == 1
    # compare makes three runs (truth, plain, the configuration) and an analysis: it cannot take
    # less than the runs it made, two at a time.
    assert compare["min"] * 2 >= measured["runs_wall_s"]["min"] * 0.9
    assert measured["ratio"]["median"] > 1
    assert (tmp_path / "work" / "reports" / "compare" / here.short / "truth.log").exists()
    assert not (project / "reports").exists()  # the project's compare reports are left alone


def test_compare_section_reports_a_failing_run(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "notes_app").mkdir(parents=True)
    (project / ".coveragerc").write_text("[run]\nsource = notes_app\n")
    (project / "check_broken.py").write_text("def test_broken():\n    assert False\n")
    suite = Suite(project_dir=project, project_rc=project / ".coveragerc", sources=(project / "notes_app",),
                  test_paths=("check_broken.py",), name="broken all")  # fmt: skip
    here = Python("%d.%d.%d" % sys.version_info[:3], sys.executable)
    with pytest.raises(BenchError, match=r"^compare section: the plain run failed \(exit 1\); see .*plain\.log$"):
        compare_cost.measure(python=here, suite=suite, rounds=1, work=tmp_path / "work", environ=os.environ,
                             say=lambda _: None, jobs=2, config_names="thread")  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "--configs", "bogus"], "unknown configuration 'bogus'; known: "),
        (["bench", "--only", "load", "--configs", "thread"], "--configs chooses the configurations of the overhead"),
    ],
)
def test_bench_configs_errors_are_one_line_usage_errors(args: list[str], message: str) -> None:
    from test_scripts.runner import cli

    with pytest.raises(cli.UsageError, match=f"^{re.escape(message)}"):
        cli.COMMANDS["bench"].prepare(cli.parse_args(args))


def test_bench_offers_only_the_configurations_asked_for() -> None:
    python = Python("3.11.7", sys.executable)
    names = [config.name for config in overhead.offered_configs(python, "thread+greenlet/branch,sysmon,slipcover")]
    assert names == ["thread+greenlet/branch", "slipcover"]  # sysmon needs 3.12
