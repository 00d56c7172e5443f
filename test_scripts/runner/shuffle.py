"""`./test_runner.py shuffle`: run a suite N times in random orders and name the tests that flake.

pytest.ini turns pytest-randomly off (`-p no:randomly`) so that every other run keeps file order;
each round here turns it back on with `-p randomly --randomly-seed=S`, a different S each round.
A test whose outcome differs between rounds depends on the order the tests ran in (state left
behind by another test, or a race): we name it with a seed that reproduces its failure, and exit
FLAKY. A test that fails in every round is an ordinary failure (TESTS_FAILED), not a flake.

This module is also the small pytest plugin (`-p test_scripts.runner.shuffle`) that writes each
test's outcome to the JSON file named by `OUTCOMES_VARIABLE`: node ids survive there exactly,
where JUnit XML would mangle them. Standard library only, like every command module.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from test_scripts.runner.base import PROJECT_DIR, Command, ExitCode, UsageError, exit_code_for_pytest, relative, say

DEFAULT_ROUNDS = 20
MAX_ROUNDS = 1000
LOG_DIR = PROJECT_DIR / "reports" / "shuffle"
OUTCOMES_VARIABLE = "COVREF_SHUFFLE_OUTCOMES"
PLUGIN = "test_scripts.runner.shuffle"
# pytest-randomly takes any integer as a seed; we draw distinct ones from this range.
SEED_RANGE = range(1, 2**31)
# Round outcomes that stop the whole shuffle: later rounds would only repeat them.
FATAL_EXIT_CODES = (ExitCode.INTERRUPTED, ExitCode.PYTEST_ERROR, ExitCode.USAGE, ExitCode.NO_TESTS)


# --- the pytest plugin: one outcome per test, written at the end of the session ----------------

_outcomes: Dict[str, str] = {}


def pytest_runtest_logreport(report: Any) -> None:
    """Keep the worst outcome of a test's phases: a failing setup or teardown is an error."""
    if report.failed:
        outcome = "failed" if report.when == "call" else "error"
    elif report.skipped:
        outcome = "skipped"
    else:
        outcome = "passed"
    if _outcomes.get(report.nodeid, "passed") == "passed":
        _outcomes[report.nodeid] = outcome


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    path = os.environ.get(OUTCOMES_VARIABLE)
    # Under pytest-xdist the controller receives every worker's reports; the workers write nothing.
    if path and "PYTEST_XDIST_WORKER" not in os.environ:
        Path(path).write_text(json.dumps(_outcomes, indent=1, sort_keys=True))


# --- rounds and flakes ---------------------------------------------------------------------------


class Round(NamedTuple):
    number: int
    seed: int
    exit_code: ExitCode
    outcomes: Dict[str, str]  # node id -> passed, failed, error, skipped
    seconds: float
    log: Path


class Flake(NamedTuple):
    test: str
    # (outcome, seeds of the rounds that gave it), the most frequent outcome first
    outcomes: Tuple[Tuple[str, Tuple[int, ...]], ...]

    @property
    def failing_seed(self) -> int:
        """A seed whose order made the test fail (or error, or skip where it usually passes)."""
        for outcome, seeds in self.outcomes:
            if outcome in ("failed", "error"):
                return seeds[0]
        return self.outcomes[-1][1][0]


def draw_seeds(rounds: int, rng: Optional[random.Random] = None) -> List[int]:
    """`rounds` distinct seeds."""
    return (rng or random.SystemRandom()).sample(SEED_RANGE, rounds)


def summarize(outcomes: Dict[str, str]) -> str:
    counts: Dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    order = ("passed", "failed", "error", "skipped")
    return ", ".join(f"{counts[name]} {name}" for name in order if name in counts) or "no tests ran"


def find_flakes(rounds: Sequence[Round]) -> List[Flake]:
    """Tests with more than one outcome across the rounds, in node id order."""
    seen: Dict[str, Dict[str, List[int]]] = {}
    for round_ in rounds:
        for test, outcome in round_.outcomes.items():
            seen.setdefault(test, {}).setdefault(outcome, []).append(round_.seed)
    flakes = []
    for test in sorted(seen):
        by_outcome = seen[test]
        if len(by_outcome) > 1:
            ranked = sorted(by_outcome.items(), key=lambda item: (-len(item[1]), item[0]))
            flakes.append(Flake(test, tuple((outcome, tuple(seeds)) for outcome, seeds in ranked)))
    return flakes


def run_round(
    command: Sequence[str], number: int, seed: int, *, cwd: Path, env: Dict[str, str], log_dir: Path
) -> Round:
    """One pytest run in the order of `seed`; its output goes to log_dir/round-NN.log."""
    log = log_dir / f"round-{number:02d}.log"
    outcomes_file = log_dir / f"round-{number:02d}.json"
    outcomes_file.unlink(missing_ok=True)
    full = [*command, "-p", PLUGIN, "-p", "randomly", f"--randomly-seed={seed}"]
    environment = {**env, OUTCOMES_VARIABLE: str(outcomes_file)}
    # The plugin is this module: the child must import test_scripts from the project.
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    started = time.monotonic()
    with log.open("w") as output:
        output.write(f"$ {shlex.join(full)}\n")
        output.flush()
        process = subprocess.Popen(full, cwd=str(cwd), env=environment, stdout=output, stderr=subprocess.STDOUT)
        # Ctrl-C reaches pytest too (same process group): we wait for it to stop and report.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            returncode = process.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
    seconds = time.monotonic() - started
    outcomes = json.loads(outcomes_file.read_text()) if outcomes_file.is_file() else {}
    return Round(number, seed, exit_code_for_pytest(returncode), outcomes, seconds, log)


def shuffle(
    command: Sequence[str],
    seeds: Sequence[int],
    *,
    cwd: Path,
    env: Dict[str, str],
    log_dir: Path,
    reproduce: Callable[[int], str],
    report: Callable[[str], None] = say,
) -> ExitCode:
    """Run `command` once per seed; report each round, then the flakes; the exit code says which."""
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in [*log_dir.glob("round-*.log"), *log_dir.glob("round-*.json")]:
        old.unlink()
    rounds: List[Round] = []
    width = len(str(len(seeds)))
    for number, seed in enumerate(seeds, start=1):
        round_ = run_round(command, number, seed, cwd=cwd, env=env, log_dir=log_dir)
        rounds.append(round_)
        status = "ok" if round_.exit_code == ExitCode.OK else round_.exit_code.name
        report(
            f"shuffle round {number:>{width}}/{len(seeds)}: --randomly-seed={seed:<10} "
            f"{status:<12} {summarize(round_.outcomes)} ({round_.seconds:.1f} s)"
        )
        if round_.exit_code in FATAL_EXIT_CODES:
            if round_.exit_code != ExitCode.INTERRUPTED:
                report(f"shuffle: stopped; pytest's output is in {relative(round_.log)}")
            return round_.exit_code

    flakes = find_flakes(rounds)
    failed_rounds = [round_ for round_ in rounds if round_.exit_code != ExitCode.OK]
    if not flakes:
        if failed_rounds:
            report(
                f"shuffle: no flaky test, but {len(failed_rounds)} of {len(rounds)} rounds failed "
                f"the same way; see {relative(failed_rounds[0].log)}"
            )
            return failed_rounds[0].exit_code
        report(f"shuffle: {len(rounds)} rounds in random order, 0 flaky tests")
        return ExitCode.OK
    report(f"shuffle: {_plural(len(flakes), 'test')} gave different results in different orders:")
    for flake in flakes:
        report(f"  {flake.test}: {'; '.join(_describe(outcome, seeds) for outcome, seeds in flake.outcomes)}")
        report(f"    reproduce: {reproduce(flake.failing_seed)}")
    return ExitCode.FLAKY


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _describe(outcome: str, seeds: Sequence[int]) -> str:
    """`failed in 2 rounds (seed 1, 3)`; the seeds of passing rounds are not worth a line."""
    text = f"{outcome} in {_plural(len(seeds), 'round')}"
    if outcome == "passed":
        return text
    shown = ", ".join(map(str, seeds[:3])) + (", ..." if len(seeds) > 3 else "")
    return f"{text} (seed {shown})"


# --- the command ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShuffleJob:
    category: str
    target: str
    rounds: int
    db: str
    transport: str
    workers: Optional[str]
    keyword: Optional[str]
    paths: Tuple[str, ...]
    pytest_args: Tuple[str, ...]


def _rounds(value: str) -> int:
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ROUNDS:
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a number of rounds from 1 to {MAX_ROUNDS}, got {value!r}")


def _configure(parser: argparse.ArgumentParser) -> None:
    from test_scripts.runner import cli  # cli imports this module: only at call time

    parser.add_argument(
        "category",
        choices=tuple(cli.CATEGORIES),
        metavar="CATEGORY",
        help=f"the suite: {', '.join(cli.CATEGORIES)}",
    )
    parser.add_argument("target", nargs="?", default="all", metavar="TARGET", help="all (default) or a module name")
    parser.add_argument(
        "--rounds",
        type=_rounds,
        default=DEFAULT_ROUNDS,
        metavar="N",
        help=f"runs, each in its own order (default: {DEFAULT_ROUNDS})",
    )
    cli._add_test_options(parser, suppress=True)


def prepare(args: argparse.Namespace) -> ShuffleJob:
    from test_scripts.runner import cli

    given = [flag for flag in ("--coverage", "--contexts") if getattr(args, flag[2:], None)]
    if len(given) == 1:
        raise UsageError(f"{given[0]} measures coverage; shuffle does not take it")
    if given:
        raise UsageError(f"{', '.join(given)} measure coverage; shuffle does not take them")
    paths = cli.select_paths(args.category, args.target)
    db = args.db or "sqlite"
    if db == "postgres":
        cli.check_postgres(cli.postgres_url(os.environ))
    return ShuffleJob(
        category=args.category,
        target=args.target,
        rounds=args.rounds,
        db=db,
        transport=args.transport or "threaded",
        workers=args.workers,
        keyword=args.keyword,
        paths=tuple(paths),
        pytest_args=tuple(args.pytest_args),
    )


def reproduce_command(job: ShuffleJob, seed: int) -> str:
    """The runner command that runs the suite in the order of `seed`."""
    words = ["./test_runner.py"]
    if job.db != "sqlite":
        words += ["--db", job.db]
    if job.transport != "threaded":
        words += ["--transport", job.transport]
    if job.workers is not None:
        words += ["-n", job.workers]
    if job.keyword is not None:
        words += ["-k", job.keyword]
    words += [job.category, job.target, "--", *job.pytest_args, "-p", "randomly", f"--randomly-seed={seed}"]
    return shlex.join(words)


def run(job: ShuffleJob) -> ExitCode:
    from test_scripts.runner import cli

    plan = cli.RunPlan(
        category=job.category,
        target=job.target,
        db=job.db,
        transport=job.transport,
        workers=job.workers,
        keyword=job.keyword,
        pytest_args=job.pytest_args,
    )
    command = cli.build_pytest_command(plan, job.paths)
    log_dir = LOG_DIR / f"{job.category}-{job.target}"  # two shuffles of different suites may run at once
    shown = shlex.join([relative(Path(command[0])), *command[1:]])
    say(f"shuffle: {job.rounds} rounds of {shown}; logs in {relative(log_dir)}")
    return shuffle(
        command,
        draw_seeds(job.rounds),
        cwd=PROJECT_DIR,
        env=cli.pytest_environment(plan, os.environ),
        log_dir=log_dir,
        reproduce=lambda seed: reproduce_command(job, seed),
    )


COMMANDS: Dict[str, Command] = {
    "shuffle": Command(
        help="run a suite N times in random orders (pytest-randomly); exit 68 naming any test whose result changed",
        configure=_configure,
        prepare=prepare,
        run=run,
        usage="shuffle [--rounds N] [--db {sqlite,postgres}] [--transport {threaded,asgi}] [-n N] [-k EXPR]\n"
        "                      CATEGORY [TARGET] [-- PYTEST_ARGS ...]",
    ),
}
