"""Tests for test_scripts/slipcover_data.py: slipcover's measurement as a coverage.py data file.

The mapping of branches is tested on synthetic data. The conversion is tested on a small real
program (branches of every kind the mapping handles, a thread, a greenlet switch, a coroutine)
measured twice in subprocesses: by slipcover, converted, and by coverage.py's own C tracer with
``concurrency = thread,greenlet``. coverage's JSON report of both must be the same: executed and
missing lines, executed and missing branch arcs, and the totals. The program switches greenlets
itself only at its very end: the C tracer loses the lines that follow such a switch in the
switching frame (the README's pattern catalog measures it), slipcover does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import coverage
import pytest

from test_scripts import slipcover_data
from test_scripts.runner.base import without_outer_run
from test_scripts.slipcover_data import SLIPCOVER_EXIT, branch_arcs, map_destinations

HOME = Path(__file__).resolve().parents[2]

PROGRAM = '''\
import asyncio
import threading

import greenlet


def classify(n):
    if n < 0:
        return "negative"
    elif n == 0:
        return "zero"
    return "positive"


def first_even(items):
    for item in items:
        if item % 2 == 0:
            break
    else:
        return None
    return item


def countdown(n):
    while n > 0:
        n -= 1
    return n


def nested(rows):
    total = 0
    for row in rows:
        for cell in row:
            if cell:
                total += cell
    return total


def in_with(flag):
    with open(__file__) as source:
        if flag:
            source.readline()
    return flag


def falls_off_the_end(flag):
    if flag:
        print("flag")


def never_called(flag):
    if flag:
        return 1
    return 2


def in_thread(out):
    for i in range(3):
        if i == 1:
            out.append(i)


def child():
    answer = main_greenlet.switch("from the child")
    if answer == "back":
        return "done"
    return "other"


async def awaiting(flag):
    await asyncio.sleep(0)
    if flag:
        return "yes"
    return "no"


classify(-1)
classify(0)
first_even([1, 3])
first_even([1, 2])
countdown(2)
nested([[0, 1], []])
in_with(True)
falls_off_the_end(False)
out = []
thread = threading.Thread(target=in_thread, args=(out,))
thread.start()
thread.join()
asyncio.run(awaiting(True))
main_greenlet = greenlet.getcurrent()
spawned = greenlet.greenlet(child)
spawned.switch()
spawned.switch("back")
if __name__ == "__main__":  # pragma: no cover
    print("excluded, but it runs")
'''


# --- mapping (pure) ----------------------------------------------------------------------------


def test_map_destinations_same_lines_map_to_themselves() -> None:
    assert map_destinations(3, [4, 6], [4, 6]) == ({4: 4, 6: 6}, [])


def test_map_destinations_function_exit_is_coverages_negative_line() -> None:
    assert map_destinations(3, [4, SLIPCOVER_EXIT], [4, -1]) == ({4: 4, SLIPCOVER_EXIT: -1}, [])


def test_map_destinations_one_left_on_each_side_is_the_same_exit() -> None:
    # An `if` ending a `with` body: slipcover names the statement after the with (9), coverage
    # the jump it makes through the with's exit to the loop header (2).
    assert map_destinations(5, [6, 9], [6, 2]) == ({6: 6, 9: 2}, [])


def test_map_destinations_reports_what_it_cannot_name() -> None:
    mapped, problems = map_destinations(5, [6, 8, 9], [6, 2, 3])
    assert mapped == {6: 6}
    assert problems == ["line 5: slipcover's branch to 8, 9 matches none of coverage's destinations [2, 3, 6]"]


def test_branch_arcs_are_self_arcs_for_lines_and_coverages_arcs_for_taken_branches() -> None:
    arcs, problems = branch_arcs(
        executed_lines=[1, 2, 3, 4],
        taken=[(2, 3), (2, SLIPCOVER_EXIT)],
        instrumented=[(2, 3), (2, SLIPCOVER_EXIT)],
        possible=[(1, 2), (2, 3), (2, -1), (3, 4), (4, -1)],
    )
    assert (arcs, problems) == ({(1, 1), (2, 2), (3, 3), (4, 4), (2, 3), (2, -1)}, [])


def test_branch_arcs_skip_lines_coverage_sees_one_way_on() -> None:
    # `while True:` is a branch to slipcover and has one exit for coverage.
    arcs, problems = branch_arcs(
        executed_lines=[1, 2], taken=[(1, 2)], instrumented=[(1, 2), (1, SLIPCOVER_EXIT)], possible=[(1, 2), (2, 1)]
    )
    assert (arcs, problems) == ({(1, 1), (2, 2)}, [])


def test_branch_arcs_refuse_a_destination_that_never_ran() -> None:
    arcs, problems = branch_arcs(
        executed_lines=[1], taken=[(1, 2)], instrumented=[(1, 2), (1, 3)], possible=[(1, 2), (1, 3)]
    )
    assert arcs == {(1, 1)}
    assert problems == ["line 1: slipcover took the branch to 2, which never ran"]


def test_branch_arcs_name_branch_lines_slipcover_does_not_measure() -> None:
    # A `case` line of a match statement: coverage's branch, not slipcover's.
    arcs, problems = branch_arcs(executed_lines=[1, 2], taken=[], instrumented=[], possible=[(2, 3), (2, 4)])
    assert arcs == {(1, 1), (2, 2)}
    assert problems == ["line 2: coverage sees a branch to [3, 4] that slipcover does not measure"]


# --- a real program, measured both ways --------------------------------------------------------


def measure(tmp_path: Path, *, branch: bool) -> tuple[dict[str, Any], dict[str, Any], slipcover_data.Conversion]:
    """coverage's JSON report of PROGRAM under slipcover (converted) and under the C tracer."""
    work = tmp_path / "work"
    work.mkdir()
    program = work / "program.py"
    program.write_text(PROGRAM, encoding="utf-8")
    rc = tmp_path / "coveragerc"
    rc.write_text(
        textwrap.dedent(f"""\
            [run]
            source = {work}
            branch = {branch}
            concurrency = thread,greenlet
            """),
        encoding="utf-8",
    )
    env = without_outer_run(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HOME), os.environ.get("PYTHONPATH")]))
    out = tmp_path / "slipcover.json"
    slipcover_run = [sys.executable, "-m", "test_scripts.slipcover_data", "run", *(["--branch"] if branch else []),
                     "--source", str(work), "--json", "--out", str(out), str(program)]  # fmt: skip
    subprocess.run(slipcover_run, cwd=work, env=env, check=True, capture_output=True, timeout=120)
    traced = tmp_path / "traced.coverage"
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", f"--data-file={traced}", str(program)],
        cwd=work, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    converted = tmp_path / "converted.coverage"
    conversion = slipcover_data.write_data_file(str(out), str(converted), config_file=str(rc), base_dir=str(work))
    return report(converted, rc, tmp_path / "converted.json"), report(traced, rc, tmp_path / "traced.json"), conversion


def report(data_file: Path, rc: Path, out: Path) -> dict[str, Any]:
    cov = coverage.Coverage(data_file=str(data_file), config_file=str(rc))
    cov.load()
    cov.json_report(outfile=str(out))
    cov.get_data().close(force=True)
    result = json.loads(out.read_text(encoding="utf-8"))
    del result["meta"]
    return result


def test_branch_data_gives_the_c_tracers_report(tmp_path: Path) -> None:
    converted, traced, conversion = measure(tmp_path, branch=True)
    assert conversion.problems == []
    [(name, file)] = converted["files"].items()
    assert converted == traced
    assert file["missing_lines"] == [12, 48, 52, 53, 54, 67, 74]
    assert (file["summary"]["num_branches"], file["summary"]["num_partial_branches"]) == (30, 5)
    # The `with` body's exit, a function's exit, a loop header after an inner loop, the thread's loop:
    assert {(41, 43), (47, 48), (65, 67)} <= {tuple(arc) for arc in file["missing_branches"]}
    assert {(47, -46), (58, -57), (34, 33), (59, 58)} <= {tuple(arc) for arc in file["executed_branches"]}


def test_line_data_gives_the_c_tracers_report(tmp_path: Path) -> None:
    converted, traced, conversion = measure(tmp_path, branch=False)
    assert (conversion.branch, conversion.problems) == (False, [])
    assert converted == traced
    [file] = converted["files"].values()
    assert file["missing_lines"] == [12, 48, 52, 53, 54, 67, 74]


def test_unexecuted_files_under_source_are_reported_and_omit_applies(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for name in ("__init__.py", "ran.py", "idle.py", "omitted.py"):
        (tmp_path / "pkg" / name).write_text("x = 1\n", encoding="utf-8")
    rc = tmp_path / "rc"
    rc.write_text("[run]\nsource = pkg\nomit = pkg/omitted.py\n", encoding="utf-8")
    slipcover = {"meta": {"branch_coverage": False},
                 "files": {"pkg/ran.py": {"executed_lines": [1], "missing_lines": []},
                           "pkg/omitted.py": {"executed_lines": [1], "missing_lines": []}}}  # fmt: skip
    data = coverage.CoverageData(no_disk=True)
    conversion = slipcover_data.convert(slipcover, data, config_file=str(rc), base_dir=str(tmp_path))
    files = {os.path.relpath(name, tmp_path): data.lines(name) for name in data.measured_files()}
    assert files == {"pkg/__init__.py": [], "pkg/idle.py": [], "pkg/ran.py": [1]}
    assert (conversion.files, conversion.executed_lines) == (3, 1)
