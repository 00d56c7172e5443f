"""What every runner command shares: the exit codes, the one-line errors, `say`, `Command`.

Standard library only: commands check their arguments on the system python3 (`prepare`) before
the runner enters the venv, and run there (`run`). A command module (`policy`, `mutate`, ...)
defines `COMMANDS: Dict[str, Command]`; `cli` puts them in its table.
"""

from __future__ import annotations

import argparse
import enum
import signal
import sys
from pathlib import Path
from typing import Callable, Collection, Dict, Mapping, NamedTuple, Optional

from test_scripts.runner import bootstrap

PROG = "test_runner.py"
PROJECT_DIR = bootstrap.PROJECT_DIR


class ExitCode(enum.IntEnum):
    """Every status the runner exits with. 0-5 mean what they mean to pytest."""

    OK = 0
    TESTS_FAILED = 1
    INTERRUPTED = 2
    PYTEST_ERROR = 3
    USAGE = 4
    NO_TESTS = 5
    COVERAGE_INEXACT = 65
    BELOW_TARGET = 66
    MUTANTS_SURVIVED = 67
    FLAKY = 68
    DB_UNREACHABLE = 69
    INTERNAL_ERROR = 70
    SERVER_FAILED = 71
    NO_COVERAGE_DATA = 72
    BOOTSTRAP_FAILED = 73


EXIT_CODE_MEANINGS: Dict[ExitCode, str] = {
    ExitCode.OK: "the tests passed (serve: the server stopped cleanly)",
    ExitCode.TESTS_FAILED: "tests failed, or coverage is under the rc's fail_under",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.PYTEST_ERROR: "pytest hit an internal error or crashed (often a broken conftest.py)",
    ExitCode.USAGE: "a wrong command line: the runner's, or pytest's after --",
    ExitCode.NO_TESTS: "pytest collected no tests (an empty folder, or -k matched nothing)",
    ExitCode.COVERAGE_INEXACT: "compare: the project's .coveragerc, or what --coverage runs, lost or invented lines",
    ExitCode.BELOW_TARGET: "check: a module under its target or the total under the ratchet; "
    "diff-cover: changed lines under --fail-under",
    ExitCode.MUTANTS_SURVIVED: "mutate: a module's mutation score is under its target",
    ExitCode.FLAKY: "shuffle: a test's result depended on the order the tests ran in",
    ExitCode.DB_UNREACHABLE: "--db postgres and PostgreSQL does not accept connections",
    ExitCode.INTERNAL_ERROR: "a runner bug or a missing project file; --verbose shows tracebacks",
    ExitCode.SERVER_FAILED: "serve: the server could not start or stopped with an error",
    ExitCode.NO_COVERAGE_DATA: "check, diff-cover, who-covers, badge: no coverage data yet (run --coverage)",
    ExitCode.BOOTSTRAP_FAILED: "the virtual environment could not be made, or Python < 3.11",
}

PYTEST_EXIT_CODES: Dict[int, ExitCode] = {
    0: ExitCode.OK,
    1: ExitCode.TESTS_FAILED,
    2: ExitCode.INTERRUPTED,
    3: ExitCode.PYTEST_ERROR,
    4: ExitCode.USAGE,
    5: ExitCode.NO_TESTS,
}


class RunnerError(Exception):
    """A failure we explain in one line; subclasses name the exit code and the line's prefix."""

    exit_code = ExitCode.INTERNAL_ERROR
    prefix = ""


class UsageError(RunnerError):
    exit_code = ExitCode.USAGE
    prefix = "error: "


class DatabaseUnreachable(RunnerError):
    exit_code = ExitCode.DB_UNREACHABLE


class ProjectError(RunnerError):
    """A file of the project that a command needs is missing (.coveragerc, backend/app/cli.py)."""

    exit_code = ExitCode.INTERNAL_ERROR


def say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)



def relative(path: Path) -> str:
    """A project path as the person would type it; others as they are."""
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


class Command(NamedTuple):
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    prepare: Callable[[argparse.Namespace], object]  # before the venv: standard library only
    run: Callable[..., ExitCode]  # in the venv, with what `prepare` returned
    usage: Optional[str] = None  # the command's line in `--help`'s usage, after PROG


# What a measured pytest run leaves in the environment of every process it starts: coverage.py's
# and pytest-cov's settings, slipcover's hand-off to its xdist workers (SLIPCOVER_ENABLED and the
# folder each worker writes its part to) and pytest-xdist's worker identity. A run the project
# starts (the runner's pytest, compare's runs, mutmut, a harness test's child) measures what it
# was asked to: inheriting these, a child pytest takes itself for the outer run's worker and writes
# its own coverage over that worker's part.
OUTER_RUN_PREFIXES = ("COVERAGE_", "COV_CORE_", "SLIPCOVER_", "PYTEST_XDIST_", "PYTEST_CURRENT_TEST")
# An outer pytest's options, which a run that must be reproducible (compare's) does not take either.
OUTER_PYTEST_OPTIONS = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def without_outer_run(environ: Mapping[str, str], *, pytest_options: bool = True) -> Dict[str, str]:
    """`environ` without an outer run's measurement (and, unless `pytest_options`, its pytest options)."""
    return {
        key: value
        for key, value in environ.items()
        if not key.startswith(OUTER_RUN_PREFIXES) and (pytest_options or key not in OUTER_PYTEST_OPTIONS)
    }


def exit_code_for_pytest(returncode: int) -> ExitCode:
    if returncode in PYTEST_EXIT_CODES:
        return PYTEST_EXIT_CODES[returncode]
    if returncode == -signal.SIGINT:
        return ExitCode.INTERRUPTED
    return ExitCode.PYTEST_ERROR  # killed by a signal, or a code pytest does not define


# (flag, dest) of the options that only the test commands take; the other commands refuse them.
TEST_OPTIONS = (
    ("--coverage", "coverage"),
    ("--contexts", "contexts"),
    ("--coverage-config", "coverage_config"),
    ("--db", "db"),
    ("--transport", "transport"),
    ("-n", "workers"),
    ("-k", "keyword"),
)


def refuse_test_options(args: argparse.Namespace, command: str, *, accepts: Collection[str] = ()) -> None:
    """`./test_runner.py --coverage serve` is a mistake worth one line; `accepts` names the dests it takes."""
    given = [flag for flag, dest in TEST_OPTIONS if dest not in accepts and getattr(args, dest, None) not in (None, False)]
    if given:
        are = "is a test option" if len(given) == 1 else "are test options"
        raise UsageError(f"{', '.join(given)} {are}; {command} does not take {'it' if len(given) == 1 else 'them'}")


def refuse_pytest_args(args: argparse.Namespace, command: str) -> None:
    if args.pytest_args:
        raise UsageError(f"arguments after -- are for pytest; {command} does not take them")
