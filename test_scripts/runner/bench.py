"""The `bench` command of ./test_runner.py: what coverage, the harness and the app cost, measured.

    ./test_runner.py bench [--rounds N] [--python VERSIONS] [--only SECTIONS] [--db sqlite|postgres]

`prepare` checks the command line on the system python3 (standard library only): the sections,
the rounds, the Pythons of the overhead section (found as compare finds them), PostgreSQL. `run`
builds the `.venv-X.Y` of each extra Python, then measures (test_scripts/bench/) in the venv.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from typing import Dict, List, NamedTuple, Optional, Tuple

from test_scripts.compare import configs as compare_configs
from test_scripts.compare import pythons as compare_pythons
from test_scripts.runner import bootstrap
from test_scripts.runner.base import (
    Command,
    DatabaseUnreachable,
    ExitCode,
    PROG,
    PROJECT_DIR,
    UsageError,
    refuse_pytest_args,
    refuse_test_options,
    say,
)

SECTIONS = ("overhead", "compare", "server", "xdist", "throughput", "load")  # = test_scripts.bench.main.SECTIONS
DEFAULT_ROUNDS = 3
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13")
DB_CHOICES = ("sqlite", "postgres")
USAGE = "bench [--rounds N] [--python VERSIONS] [--configs LIST] [--only SECTIONS] [--db {sqlite,postgres}]"


class BenchJob(NamedTuple):
    sections: Tuple[str, ...]
    rounds: int
    db: str
    postgres_url: Optional[str]  # None: PostgreSQL does not answer (only allowed with --db sqlite)
    pythons: Tuple[Tuple[str, str], ...]  # (version, executable) for the overhead section
    command: str
    configs: Optional[str] = None  # compare's configuration names for the overhead section; None: its default set


def parse_sections(text: Optional[str]) -> Tuple[str, ...]:
    """`--only server,load` -> ("server", "load") in the order they run; None: every section."""
    if text is None:
        return SECTIONS
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown or not names:
        shown = ", ".join(repr(name) for name in unknown) if unknown else "nothing"
        raise UsageError(f"--only got {shown}; sections: {', '.join(SECTIONS)} (comma separated)")
    return tuple(section for section in SECTIONS if section in names)


def _rounds(value: str) -> int:
    if value.isascii() and value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a number of rounds (1 or more), got {value!r}")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.usage = f"{PROG} {USAGE}"
    parser.add_argument(
        "--rounds",
        type=_rounds,
        default=DEFAULT_ROUNDS,
        metavar="N",
        help=f"measurements of each thing, interleaved (default: {DEFAULT_ROUNDS}); 1 for a quick look",
    )
    parser.add_argument(
        "--python",
        metavar="VERSIONS",
        default=None,
        help=f"the Pythons of the overhead section (default: those of {','.join(DEFAULT_PYTHONS)} installed)",
    )
    parser.add_argument(
        "--configs",
        metavar="LIST",
        default=None,
        help=f"the overhead section's coverage configurations, from {compare_configs.known_names_text()} "
        "(default: compare's default set)",
    )
    parser.add_argument(
        "--only", metavar="SECTIONS", default=None, help=f"comma separated, from {', '.join(SECTIONS)} (default: all)"
    )
    parser.add_argument(
        "--db",
        choices=DB_CHOICES,
        default=argparse.SUPPRESS,
        help="database of the suites and the servers (default: sqlite); the load section always does both",
    )


def find_pythons(text: Optional[str]) -> List[compare_pythons.Python]:
    """The --python interpreters, or by default every one of DEFAULT_PYTHONS that is installed."""
    if text is not None:
        try:
            found = compare_pythons.find(compare_pythons.parse_versions(text))
        except (ValueError, compare_pythons.PythonNotFound) as exc:
            raise UsageError(str(exc)) from None
        old = [python.version for python in found if python.version_tuple[:2] < bootstrap.MIN_PYTHON]
        if old:
            raise UsageError(f"Python {', '.join(old)} is too old: the project needs 3.11 or newer")
        return found
    installed = {**compare_pythons.path_pythons(), **compare_pythons.pyenv_pythons(compare_pythons.pyenv_root())}
    current = "%d.%d.%d" % sys.version_info[:3]
    installed.setdefault(current, sys.executable)
    found = []
    for version in DEFAULT_PYTHONS:
        try:
            found += compare_pythons.find([version], installed=installed)
        except compare_pythons.PythonNotFound:
            continue
    return found


def prepare(args: argparse.Namespace) -> BenchJob:
    from test_scripts.runner import cli  # cli imports us: by the time prepare runs, it is loaded

    # The test commands' options, given before `bench`; --db is bench's own too.
    refuse_test_options(args, "bench", accepts=("db",))
    refuse_pytest_args(args, "bench")
    sections = parse_sections(args.only)
    if args.python is not None and "overhead" not in sections:
        raise UsageError("--python chooses the Pythons of the overhead section, which --only leaves out")
    if args.configs is not None:
        if "overhead" not in sections:
            raise UsageError("--configs chooses the configurations of the overhead section, which --only leaves out")
        try:
            compare_configs.parse_names(args.configs)
        except compare_configs.ConfigError as exc:
            raise UsageError(str(exc)) from None
    pythons = find_pythons(args.python) if "overhead" in sections else []
    db = getattr(args, "db", None) or "sqlite"
    url: Optional[str] = cli.postgres_url(os.environ)
    if db == "postgres" or "load" in sections:
        try:
            cli.check_postgres(url)  # type: ignore[arg-type]
        except DatabaseUnreachable:
            if db == "postgres":
                raise
            url = None  # the load section then reports PostgreSQL as skipped, with the reason
    words = ["./test_runner.py", "bench", "--rounds", str(args.rounds)]
    words += ["--python", args.python] if args.python else []
    words += ["--configs", args.configs] if args.configs else []
    words += ["--only", ",".join(sections)] if args.only else []
    words += ["--db", db]
    return BenchJob(
        sections=sections,
        rounds=args.rounds,
        db=db,
        postgres_url=url,
        pythons=tuple((python.version, python.executable) for python in pythons),
        command=shlex.join(words),
        configs=args.configs,
    )


def run(job: BenchJob) -> ExitCode:
    """Build the venv of every extra Python (`.venv-X.Y`, as compare does), then measure."""
    sys.path.insert(0, str(PROJECT_DIR / "backend"))
    from test_scripts.bench import main

    # The app logs every sync it runs ("skipping rates for unknown currencies"): noise here.
    logging.getLogger("app").setLevel(logging.ERROR)

    current = "%d.%d.%d" % sys.version_info[:3]
    pythons = []
    for version, executable in job.pythons:
        if version == current:
            pythons.append(compare_pythons.Python(version, sys.executable))
            continue
        short = ".".join(version.split(".")[:2])
        venv_python = bootstrap.ensure_venv(executable, PROJECT_DIR / f".venv-{short}", log=say)
        pythons.append(compare_pythons.Python(version, str(venv_python)))
    main.run(
        sections=job.sections,
        rounds=job.rounds,
        db=job.db,
        postgres_url=job.postgres_url,
        pythons=tuple(pythons),
        command=job.command,
        project_dir=PROJECT_DIR,
        say=say,
        config_names=job.configs,
    )
    return ExitCode.OK


COMMANDS: Dict[str, Command] = {
    "bench": Command(
        help="measure coverage overhead, compare's cost, the test server, xdist, throughput, the ECB load; reports/bench.json",
        configure=configure,
        prepare=prepare,
        run=run,
        usage=USAGE,
    ),
}
