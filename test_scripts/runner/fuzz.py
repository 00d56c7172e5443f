"""`./test_runner.py fuzz`: the schemathesis fuzz module with more examples, on demand.

    ./test_runner.py fuzz [--db sqlite|postgres] [--examples N] [--seed S] [-- PYTEST_ARGS ...]

The suite runs `test_scripts/test_api/test_fuzz.py` small and with a fixed seed, so that it is
the same run every time. This command runs the same module with `--examples` requests per
operation and a fresh seed (or `--seed`), which it prints first so that any failure can be
reproduced exactly. The module reads both from the environment (`EXAMPLES_VARIABLE`,
`SEED_VARIABLE`) and, when `REPORT_VARIABLE` names a file, writes what it sent there; we print
the totals at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, NamedTuple, Tuple

from test_scripts.runner.base import (
    Command,
    ExitCode,
    PROG,
    PROJECT_DIR,
    UsageError,
    exit_code_for_pytest,
    refuse_test_options,
    relative,
    say,
)

FUZZ_MODULE = "test_scripts/test_api/test_fuzz.py"
SEED_VARIABLE = "COVREF_FUZZ_SEED"  # = test_fuzz.SEED_VARIABLE
EXAMPLES_VARIABLE = "COVREF_FUZZ_EXAMPLES"  # = test_fuzz.EXAMPLES_VARIABLE
REPORT_VARIABLE = "COVREF_FUZZ_REPORT"  # = test_fuzz.REPORT_VARIABLE
REPORT_DIR = PROJECT_DIR / "reports" / "fuzz"
DEFAULT_EXAMPLES = 200
MAX_EXAMPLES = 100_000
MAX_SEED = 2**63 - 1
# pytest.ini gives every test 120 s; one operation here is one test, with `--examples` requests.
TIMEOUT_BASE_S = 120
TIMEOUT_PER_EXAMPLE_S = 1
DB_CHOICES = ("sqlite", "postgres")
USAGE = "fuzz [--db {sqlite,postgres}] [--examples N] [--seed S] [-- PYTEST_ARGS ...]"


class FuzzJob(NamedTuple):
    db: str
    examples: int
    seed: int
    pytest_args: Tuple[str, ...]


def _examples(value: str) -> int:
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_EXAMPLES:
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a number of examples per operation from 1 to {MAX_EXAMPLES}, got {value!r}")


def _seed(value: str) -> int:
    if value.isascii() and value.isdigit() and int(value) <= MAX_SEED:
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a seed from 0 to 2**63-1, got {value!r}")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.usage = f"{PROG} {USAGE}"
    parser.add_argument(
        "--db", choices=DB_CHOICES, default=argparse.SUPPRESS, help="database of the app under test (default: sqlite)"
    )
    parser.add_argument(
        "--examples",
        type=_examples,
        default=DEFAULT_EXAMPLES,
        metavar="N",
        help=f"generated requests per operation (default: {DEFAULT_EXAMPLES}; the suite runs 25)",
    )
    parser.add_argument(
        "--seed", type=_seed, default=None, metavar="S", help="the seed of the generator (default: a new one, printed)"
    )


def prepare(args: argparse.Namespace) -> FuzzJob:
    """Check the command line (and PostgreSQL) with the standard library, before the venv."""
    from test_scripts.runner import cli  # cli imports this module: only at call time

    refuse_test_options(args, "fuzz", accepts=("db",))
    if not (PROJECT_DIR / FUZZ_MODULE).is_file():
        raise UsageError(f"{FUZZ_MODULE} does not exist; fuzz runs it")
    db = getattr(args, "db", None) or "sqlite"
    if db == "postgres":
        cli.check_postgres(cli.postgres_url(os.environ))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(MAX_SEED)
    return FuzzJob(db=db, examples=args.examples, seed=seed, pytest_args=tuple(args.pytest_args))


def read_reports(report_dir: Path) -> Dict[str, Dict[str, int]]:
    """operation -> status code -> requests, summed over the files the module wrote (one per worker)."""
    totals: Dict[str, Dict[str, int]] = {}
    for path in sorted(report_dir.glob("requests*.json")):
        for operation, statuses in json.loads(path.read_text()).items():
            into = totals.setdefault(operation, {})
            for status, count in statuses.items():
                into[status] = into.get(status, 0) + count
    return totals


def summary(totals: Dict[str, Dict[str, int]]) -> str:
    """The run in one line: operations, requests, and requests by status code."""
    by_status: Dict[str, int] = {}
    for statuses in totals.values():
        for status, count in statuses.items():
            by_status[status] = by_status.get(status, 0) + count
    requests = sum(by_status.values())
    statuses = ", ".join(f"{status}: {by_status[status]:,}" for status in sorted(by_status))
    operations = f"{len(totals)} operation{'' if len(totals) == 1 else 's'}"
    return f"fuzz: {operations}, {requests:,} requests ({statuses or 'none'})"


def reproduce_command(job: FuzzJob) -> str:
    words = ["./test_runner.py", "fuzz"]
    if job.db != "sqlite":
        words += ["--db", job.db]
    words += ["--examples", str(job.examples), "--seed", str(job.seed)]
    if job.pytest_args:
        words += ["--", *job.pytest_args]
    return shlex.join(words)


def run(job: FuzzJob) -> ExitCode:
    from test_scripts.runner import cli

    plan = cli.RunPlan(category="api", target="fuzz", db=job.db)
    timeout = TIMEOUT_BASE_S + TIMEOUT_PER_EXAMPLE_S * job.examples
    # The person's own pytest arguments come last and win.
    command = [*cli.build_pytest_command(plan, [FUZZ_MODULE]), f"--timeout={timeout}", *job.pytest_args]
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    for old in REPORT_DIR.glob("requests*.json"):
        old.unlink()
    env = cli.pytest_environment(plan, os.environ)
    env.update({
        EXAMPLES_VARIABLE: str(job.examples),
        SEED_VARIABLE: str(job.seed),
        REPORT_VARIABLE: str(REPORT_DIR / "requests.json"),
    })  # fmt: skip
    say(f"fuzz: seed {job.seed}, up to {job.examples} examples per operation, {job.db}; reproduce: {reproduce_command(job)}")
    say("running " + shlex.join([relative(Path(command[0])), *command[1:]]))
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=str(PROJECT_DIR), env=env)
    # Ctrl-C reaches pytest too (same process group); we wait for its summary and its exit code.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        exit_code = exit_code_for_pytest(process.wait())
    finally:
        signal.signal(signal.SIGINT, previous)
    say(f"{summary(read_reports(REPORT_DIR))}; {time.monotonic() - started:.0f} s")
    if exit_code != ExitCode.OK:
        say(f"fuzz: failed; reproduce with: {reproduce_command(job)}")
    return exit_code


COMMANDS: Dict[str, Command] = {
    "fuzz": Command(
        help="fuzz every operation of the app's OpenAPI schema (schemathesis) with more examples than the suite",
        configure=configure,
        prepare=prepare,
        run=run,
        usage=USAGE,
    ),
}
