"""Tests for `./test_runner.py shuffle` (test_scripts/runner/shuffle.py).

The end-to-end cases run real pytest rounds on a tiny throwaway suite in tmp_path, with fixed
seeds: pytest-randomly's order for a seed is deterministic, and seeds 1 and 2 give the two orders
of the order-dependent pair below (checked in `test_seeds_give_both_orders`).
"""

from __future__ import annotations

import configparser
import random
import subprocess
import sys
from pathlib import Path

import pytest

from test_scripts.runner import cli
from test_scripts.runner.base import ExitCode
from test_scripts.runner.shuffle import Flake, Round, ShuffleJob, draw_seeds, find_flakes, reproduce_command, shuffle

PROJECT_DIR = Path(__file__).resolve().parents[2]

ORDER_DEPENDENT = '''\
STATE = []


def test_writes_state():
    STATE.append("written")


def test_expects_clean_state():
    assert STATE == []
'''
ORDER_INDEPENDENT = '''\
def test_one():
    assert 1 + 1 == 2


def test_two():
    assert "a" * 2 == "aa"
'''
ALWAYS_FAILING = '''\
def test_broken():
    assert False


def test_fine():
    pass
'''
# Like the project's pytest.ini: file order unless a round asks for pytest-randomly.
SUITE_INI = "[pytest]\naddopts = -p no:randomly -p no:cacheprovider\n"
# Only the plugins a round names with -p (randomly, ours): a start-up of 0.3 s instead of 2 s.
SUITE_ENV = {"PATH": "/usr/bin:/bin", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
# With these seeds test_expects_clean_state runs first (passes), second (fails), first, second.
BOTH_ORDERS_SEEDS = (2, 1, 4, 3)


def make_suite(tmp_path: Path, source: str) -> Path:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text(SUITE_INI)
    (suite / "test_order.py").write_text(source)
    return suite


def run_shuffle(suite: Path, seeds: tuple[int, ...]) -> tuple[ExitCode, list[str]]:
    lines: list[str] = []
    code = shuffle(
        [sys.executable, "-m", "pytest", "test_order.py"],
        seeds,
        cwd=suite,
        env=SUITE_ENV,
        log_dir=suite / "logs",
        reproduce=lambda seed: f"pytest -p randomly --randomly-seed={seed}",
        report=lines.append,
    )
    return code, lines


def pytest_in(suite: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "test_order.py", *args],
        cwd=suite, env=SUITE_ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# --- end to end ------------------------------------------------------------------------------


def test_suite_keeps_file_order_without_randomly(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, ORDER_DEPENDENT.replace("== []", "== ['written']"))
    result = pytest_in(suite)
    assert (result.returncode, "randomly-seed" in result.stdout) == (0, False)


def test_shuffle_names_order_dependent_test_with_failing_seed(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, ORDER_DEPENDENT)

    code, lines = run_shuffle(suite, BOTH_ORDERS_SEEDS)

    assert code == ExitCode.FLAKY
    assert [line.split(": ", 1)[1].split(" (")[0] for line in lines[:4]] == [
        "--randomly-seed=2          ok           2 passed",
        "--randomly-seed=1          TESTS_FAILED 1 passed, 1 failed",
        "--randomly-seed=4          ok           2 passed",
        "--randomly-seed=3          TESTS_FAILED 1 passed, 1 failed",
    ]
    assert lines[4:] == [
        "shuffle: 1 test gave different results in different orders:",
        "  test_order.py::test_expects_clean_state: failed in 2 rounds (seed 1, 3); passed in 2 rounds",
        "    reproduce: pytest -p randomly --randomly-seed=1",
    ]


def test_shuffle_failing_seed_reproduces_the_failure(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, ORDER_DEPENDENT)
    _, lines = run_shuffle(suite, BOTH_ORDERS_SEEDS[:2])
    seed = lines[-1].rsplit("=", 1)[1]
    assert seed == "1"

    result = pytest_in(suite, "-p", "randomly", f"--randomly-seed={seed}")

    assert result.returncode == 1
    assert "FAILED test_order.py::test_expects_clean_state" in result.stdout


def test_shuffle_of_order_independent_suite_exits_ok(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, ORDER_INDEPENDENT)

    code, lines = run_shuffle(suite, (1, 2, 3))

    assert code == ExitCode.OK
    assert len(lines) == 4
    assert lines[-1] == "shuffle: 3 rounds in random order, 0 flaky tests"
    logs = sorted(path.name for path in (suite / "logs").glob("*.log"))
    assert logs == ["round-01.log", "round-02.log", "round-03.log"]
    assert "Using --randomly-seed=3" in (suite / "logs" / "round-03.log").read_text()


def test_shuffle_of_test_failing_in_every_order_is_tests_failed_not_flaky(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, ALWAYS_FAILING)

    code, lines = run_shuffle(suite, (1, 2))

    assert code == ExitCode.TESTS_FAILED
    assert lines[-1] == "shuffle: no flaky test, but 2 of 2 rounds failed the same way; see " + str(
        suite / "logs" / "round-01.log"
    )


def test_shuffle_stops_after_round_that_collects_nothing(tmp_path: Path) -> None:
    suite = make_suite(tmp_path, "")

    code, lines = run_shuffle(suite, (1, 2, 3))

    assert code == ExitCode.NO_TESTS
    assert len(lines) == 2
    assert lines[1].startswith("shuffle: stopped; pytest's output is in ")


# --- units -----------------------------------------------------------------------------------


def make_round(seed: int, outcomes: dict[str, str]) -> Round:
    return Round(1, seed, ExitCode.OK, outcomes, 0.0, Path("round.log"))


def test_find_flakes_ranks_outcomes_by_frequency_and_ignores_stable_tests() -> None:
    rounds = [
        make_round(11, {"a": "passed", "b": "passed"}),
        make_round(12, {"a": "failed", "b": "passed"}),
        make_round(13, {"a": "passed", "b": "passed"}),
    ]
    assert find_flakes(rounds) == [Flake("a", (("passed", (11, 13)), ("failed", (12,))))]


def test_flake_failing_seed_prefers_failure_over_skip() -> None:
    flake = Flake("a", (("passed", (1, 2)), ("skipped", (3,)), ("error", (4,))))
    assert flake.failing_seed == 4


def test_draw_seeds_are_distinct() -> None:
    seeds = draw_seeds(500, random.Random(0))
    assert len(set(seeds)) == 500


def test_reproduce_command_repeats_the_options_and_adds_the_seed() -> None:
    paths = ("test_scripts/test_api/test_fx_api.py",)
    job = ShuffleJob("api", "fx", 20, "postgres", "asgi", "2", "convert", paths, ("-x",))
    assert reproduce_command(job, 42) == (
        "./test_runner.py --db postgres --transport asgi -n 2 -k convert api fx -- -x -p randomly --randomly-seed=42"
    )


def test_project_pytest_ini_turns_randomly_off() -> None:
    parser = configparser.ConfigParser()
    parser.read(PROJECT_DIR / "pytest.ini")
    assert "-p no:randomly" in parser["pytest"]["addopts"]


def test_prepare_defaults() -> None:
    job = cli.COMMANDS["shuffle"].prepare(cli.parse_args(["shuffle", "db", "types"]))
    assert job == ShuffleJob(
        "db", "types", 20, "sqlite", "threaded", None, None, ("test_scripts/test_db/test_types.py",), ()
    )


def test_prepare_takes_db_before_the_command() -> None:
    args = cli.parse_args(["--db", "sqlite", "-k", "x", "shuffle", "--rounds", "3", "api", "--", "-x"])
    job = cli.COMMANDS["shuffle"].prepare(args)
    assert (job.rounds, job.keyword, job.paths, job.pytest_args) == (3, "x", ("test_scripts/test_api",), ("-x",))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["shuffle", "--rounds", "0", "api"], "argument --rounds: expected a number of rounds from 1 to 1000, got '0'"),
        (["shuffle", "--coverage", "api"], "--coverage measures coverage; shuffle does not take it"),
        (["shuffle", "nosuch"], "argument CATEGORY: invalid choice: 'nosuch'"),
    ],
)
def test_usage_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err
