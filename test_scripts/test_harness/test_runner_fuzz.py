"""Tests for `./test_runner.py fuzz` (test_scripts/runner/fuzz.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_scripts.runner import cli, fuzz
from test_scripts.runner.base import ExitCode, UsageError
from test_scripts.test_api import test_fuzz


def prepare(argv: list[str]) -> fuzz.FuzzJob:
    return fuzz.prepare(cli.parse_args(argv))


def test_prepare_defaults_to_sqlite_and_a_fresh_seed() -> None:
    first, second = prepare(["fuzz"]), prepare(["fuzz"])
    assert (first.db, first.examples, first.pytest_args) == ("sqlite", fuzz.DEFAULT_EXAMPLES, ())
    assert 0 <= first.seed <= fuzz.MAX_SEED
    assert first.seed != second.seed


def test_prepare_takes_examples_seed_and_pytest_args() -> None:
    job = prepare(["fuzz", "--examples", "500", "--seed", "42", "--", "-x"])
    assert job == fuzz.FuzzJob(db="sqlite", examples=500, seed=42, pytest_args=("-x",))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fuzz", "--examples", "0"], "argument --examples: expected a number of examples per operation from 1 to 100000, got '0'"),
        (["fuzz", "--examples", "many"], "argument --examples: expected a number of examples per operation from 1 to 100000, got 'many'"),
        (["fuzz", "--seed", "-1"], "argument --seed: expected a seed from 0 to 2**63-1, got '-1'"),
        (["fuzz", "--seed", str(2**63)], f"argument --seed: expected a seed from 0 to 2**63-1, got '{2**63}'"),
        (["-k", "convert", "fuzz"], "-k is a test option; fuzz does not take it"),
        (["--coverage", "-n", "2", "fuzz"], "--coverage, -n are test options; fuzz does not take them"),
    ],
)
def test_bad_command_line_is_one_line_usage_error(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == ExitCode.USAGE
    assert capsys.readouterr().err == f"test_runner.py: error: {message}\n"


def test_prepare_without_the_fuzz_module_is_usage_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(fuzz, "PROJECT_DIR", tmp_path)
    with pytest.raises(UsageError, match="test_scripts/test_api/test_fuzz.py does not exist; fuzz runs it"):
        prepare(["fuzz"])


def test_variables_are_the_ones_the_fuzz_module_reads() -> None:
    assert (fuzz.SEED_VARIABLE, fuzz.EXAMPLES_VARIABLE, fuzz.REPORT_VARIABLE) == (
        test_fuzz.SEED_VARIABLE, test_fuzz.EXAMPLES_VARIABLE, test_fuzz.REPORT_VARIABLE,
    )  # fmt: skip


def test_reproduce_command_names_everything_that_chose_the_run() -> None:
    job = fuzz.FuzzJob(db="postgres", examples=300, seed=7, pytest_args=("-x",))
    assert fuzz.reproduce_command(job) == "./test_runner.py fuzz --db postgres --examples 300 --seed 7 -- -x"


def test_reports_of_every_worker_are_summed(tmp_path: Path) -> None:
    (tmp_path / "requests-gw0.json").write_text(json.dumps({"GET /a": {"200": 3, "422": 1}}))
    (tmp_path / "requests-gw1.json").write_text(json.dumps({"GET /a": {"200": 2}, "POST /b": {"401": 4}}))
    totals = fuzz.read_reports(tmp_path)
    assert totals == {"GET /a": {"200": 5, "422": 1}, "POST /b": {"401": 4}}
    assert fuzz.summary(totals) == "fuzz: 2 operations, 10 requests (200: 5, 401: 4, 422: 1)"


def test_fuzz_runs_the_module_with_its_seed_and_reports_what_it_sent(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fuzz", "--examples", "2", "--seed", "3", "--", "-q", "-k", "currencies"]) == ExitCode.OK
    err = capsys.readouterr().err
    assert "test_runner.py: fuzz: seed 3, up to 2 examples per operation, sqlite; reproduce: ./test_runner.py fuzz" in err
    assert "test_runner.py: fuzz: 1 operation, " in err
    assert fuzz.read_reports(fuzz.REPORT_DIR).keys() == {"GET /api/v1/fx/currencies"}
