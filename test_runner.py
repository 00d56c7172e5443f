#!/usr/bin/env python3
"""Run the project's tests, or its server, in a virtual environment built from Pipfile.lock.

    ./test_runner.py [--coverage] [--db sqlite|postgres] [--transport threaded|asgi] [-n N] [-k EXPR]
                     {api,services,db,harness,all} [TARGET] [-- extra pytest args]
    ./test_runner.py serve [--host H] [--port P]
    ./test_runner.py compare [CATEGORY [TARGET]] [--configs LIST] [--transport threaded|asgi]
                             [--db sqlite|postgres] [--python VERSIONS] [-j N]

A category runs its folder (api: test_scripts/test_api, ..., all: the four). TARGET is `all` or a
module name: `./test_runner.py api fx` runs test_fx.py and test_fx_*.py of test_scripts/test_api.
--coverage measures with .coveragerc and writes htmlcov/, coverage.json and coverage.xml; -n runs
on pytest-xdist workers; -k and everything after `--` go to pytest as they are. --db postgres uses
DATABASE_URL when it is a postgresql+asyncpg URL, else postgresql+asyncpg://postgres@127.0.0.1:5432/test,
and hands it to pytest as TEST_DATABASE_URL after checking that the server answers.

compare runs a suite (default: api all) once per coverage configuration and against an independent
record of the lines that ran, and writes reports/compare.json, compare.md and compare.html
(test_scripts/compare/ says how); it exits 65 when the project's own .coveragerc is not exact.

The first run builds `.venv` (or $COVREF_VENV) from Pipfile.lock, with `pipenv sync --dev` when
pipenv is installed, else with `python -m venv` and `pip install --require-hashes`, then re-executes
itself there; later runs start at once until Pipfile.lock or the Python changes.
(test_scripts/runner/bootstrap.py says how it decides.)

Exit codes (ExitCode in test_scripts/runner/cli.py; 0-5 mean what they mean to pytest):
    0  OK                the tests passed (serve: the server stopped cleanly)
    1  TESTS_FAILED      tests failed, or coverage is under the rc's fail_under
    2  INTERRUPTED       interrupted (Ctrl-C)
    3  PYTEST_ERROR      pytest hit an internal error or crashed (often a broken conftest.py)
    4  USAGE             a wrong command line: the runner's, or pytest's after --
    5  NO_TESTS          pytest collected no tests (an empty folder, or -k matched nothing)
   65  COVERAGE_INEXACT  compare: the project's .coveragerc lost or invented executed lines
   69  DB_UNREACHABLE    --db postgres and PostgreSQL does not accept connections
   70  INTERNAL_ERROR    a runner bug or a missing project file; --verbose shows tracebacks
   71  SERVER_FAILED     serve: the server could not start or stopped with an error
   73  BOOTSTRAP_FAILED  the virtual environment could not be made, or Python < 3.11
"""

import sys

# Checked before anything else is imported, in syntax that any Python can parse.
if sys.version_info < (3, 11):
    sys.stderr.write(
        "test_runner.py: Python 3.11 or newer is needed; %s is %s. Run it with python3.11 or newer.\n"
        % (sys.executable, sys.version.split()[0])
    )
    sys.exit(73)  # ExitCode.BOOTSTRAP_FAILED; test_runner_cli.py checks that the two agree

from test_scripts.runner.cli import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
