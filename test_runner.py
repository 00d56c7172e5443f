#!/usr/bin/env python3
"""Run the project's tests, or its server, in a virtual environment built from Pipfile.lock.

    ./test_runner.py [--coverage | --contexts | --coverage-config NAME] [--db sqlite|postgres]
                     [--transport threaded|asgi] [-n N] [-k EXPR]
                     {api,services,db,harness,patterns,all} [TARGET] [-- extra pytest args]
    ./test_runner.py serve [--host H] [--port P]
    ./test_runner.py compare [CATEGORY [TARGET]] [--configs LIST] [--transport threaded|asgi]
                             [--db sqlite|postgres] [--python VERSIONS] [-j N]
    ./test_runner.py check [--update-ratchet]
    ./test_runner.py diff-cover [--compare-branch BRANCH] [--fail-under N]
    ./test_runner.py who-covers FILE:LINE
    ./test_runner.py badge
    ./test_runner.py mutate [MODULE] [-j N]
    ./test_runner.py fuzz [--db sqlite|postgres] [--examples N] [--seed S]
    ./test_runner.py shuffle [--rounds N] [--db sqlite|postgres] CATEGORY [TARGET]
    ./test_runner.py bench [--rounds N] [--python VERSIONS] [--configs LIST] [--only SECTIONS]

A category runs its folder (api: test_scripts/test_api, ..., all: the four). TARGET is `all` or a
module name: `./test_runner.py api fx` runs test_fx.py and test_fx_*.py of test_scripts/test_api.
--coverage measures with .coveragerc, on the fastest engine compare has shown exact for this Python
(it says which; --coverage-config NAME forces one), and writes htmlcov/, coverage.json and
coverage.xml; --contexts also records which test ran each line (C tracer); -n runs
on pytest-xdist workers; -k and everything after `--` go to pytest as they are. --db postgres uses
DATABASE_URL when it is a postgresql+asyncpg URL, else postgresql+asyncpg://postgres@127.0.0.1:5432/test,
and hands it to pytest as TEST_DATABASE_URL after checking that the server answers.

compare runs a suite (default: api all) once per coverage configuration and against an independent
record of the lines that ran, and writes reports/compare.json, compare.md and compare.html
(test_scripts/compare/ says how); it exits 65 when the project's own .coveragerc, or what
--coverage runs, is not exact. check, diff-cover, who-covers and badge read the coverage data
(test_scripts/runner/policy.py); mutate, fuzz, shuffle and bench are in test_scripts/runner/ too.

The first run builds `.venv` (or $COVREF_VENV) from Pipfile.lock, with `pipenv sync --dev` when
pipenv is installed, else with `python -m venv` and `pip install --require-hashes`, then re-executes
itself there; later runs start at once until Pipfile.lock or the Python changes.
(test_scripts/runner/bootstrap.py says how it decides.)

Exit codes (ExitCode in test_scripts/runner/base.py; 0-5 mean what they mean to pytest):
    0  OK                the tests passed (serve: the server stopped cleanly)
    1  TESTS_FAILED      tests failed, or coverage is under the rc's fail_under
    2  INTERRUPTED       interrupted (Ctrl-C)
    3  PYTEST_ERROR      pytest hit an internal error or crashed (often a broken conftest.py)
    4  USAGE             a wrong command line: the runner's, or pytest's after --
    5  NO_TESTS          pytest collected no tests (an empty folder, or -k matched nothing)
   65  COVERAGE_INEXACT  compare: the project's .coveragerc, or what --coverage runs, lost or invented lines
   66  BELOW_TARGET      check: a module under its target or the total under the ratchet; diff-cover: changed lines under --fail-under
   67  MUTANTS_SURVIVED  mutate: a module's mutation score is under its target
   68  FLAKY             shuffle: a test's result depended on the order the tests ran in
   69  DB_UNREACHABLE    --db postgres and PostgreSQL does not accept connections
   70  INTERNAL_ERROR    a runner bug or a missing project file; --verbose shows tracebacks
   71  SERVER_FAILED     serve: the server could not start or stopped with an error
   72  NO_COVERAGE_DATA  check, diff-cover, who-covers, badge: no coverage data yet (run --coverage)
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
