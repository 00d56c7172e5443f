"""The command line of ./test_runner.py: one parser, a table of commands, the exit codes.

Standard library only, like `bootstrap`: `main` checks the arguments (and whether PostgreSQL
answers) on the system python3, so a typo never waits for a venv; then it enters the venv
(`bootstrap.ensure_venv`, then `os.execv` of the venv's python with the same arguments) and the
command runs there. Exit codes are `ExitCode` below; test_runner.py's docstring and `--help`
list them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

from test_scripts.compare import configs as compare_configs
from test_scripts.compare import pythons as compare_pythons
from test_scripts.runner import bootstrap, engines
from test_scripts.runner import bench, fuzz, mutate, policy, shuffle
from test_scripts.runner.base import (  # noqa: F401  (re-exported: tests and compare import them from here)
    EXIT_CODE_MEANINGS,
    PROG,
    PROJECT_DIR,
    Command,
    DatabaseUnreachable,
    ExitCode,
    ProjectError,
    RunnerError,
    TEST_OPTIONS,
    UsageError,
    exit_code_for_pytest,
    refuse_pytest_args,
    refuse_test_options,
    relative,
    say,
    without_outer_run,
)
RUNNER_SCRIPT = PROJECT_DIR / "test_runner.py"
TESTS_DIR = PROJECT_DIR / "test_scripts"
COVERAGERC = PROJECT_DIR / ".coveragerc"

CATEGORIES: Dict[str, Tuple[str, ...]] = {
    "api": ("test_api",),
    "services": ("test_services",),
    "db": ("test_db",),
    "harness": ("test_harness",),
    "patterns": ("test_patterns",),
    "all": ("test_api", "test_services", "test_db", "test_harness", "test_patterns"),
}
# The harness checks compare's HTML page in a real browser: Debian's chromium.
BROWSER = "chromium"
BROWSER_PACKAGES = ("chromium",)
DB_CHOICES = ("sqlite", "postgres")
TRANSPORT_CHOICES = ("threaded", "asgi")
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
POSTGRES_CONNECT_TIMEOUT_S = 3.0
# Length 8, then the code 80877103 (1234 << 16 | 5679): the protocol's SSLRequest message.
POSTGRES_SSL_REQUEST = struct.pack("!ii", 8, 80877103)
COVERAGE_REPORTS = (
    "--cov-report=term-missing",
    "--cov-report=html:htmlcov",
    "--cov-report=json:coverage.json",
    "--cov-report=xml:coverage.xml",
)
# `--cov` without a source: the rc's [run] source decides what is measured, its [run] branch
# whether branches are.
COVERAGE_ARGS = ("--cov", "--cov-config=.coveragerc", *COVERAGE_REPORTS)
# What an engine other than the rc as it is runs with: rc files derived from .coveragerc
# (test_scripts/compare/configs.py), and slipcover's own result before we convert it.
ENGINE_DIR = Path("reports") / "coverage"
SLIPCOVER_JSON = ENGINE_DIR / "slipcover.json"
COVERAGE_OUTPUTS = ("htmlcov", "coverage.json", "coverage.xml", str(SLIPCOVER_JSON))
# .coveragerc's [html] show_contexts reads this: on only when contexts are recorded.
SHOW_CONTEXTS_VARIABLE = "COVREF_SHOW_CONTEXTS"
# Set for the re-executed runner; if it then finds itself outside the venv, something is wrong.
REEXEC_GUARD = "COVREF_RUNNER_REEXEC"


# --- what to run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    """A test command as the person asked for it, defaults filled in."""

    category: str
    target: str = "all"
    coverage: bool = False
    contexts: bool = False
    coverage_config: Optional[str] = None  # one of compare's configurations; None: the runner picks
    db: str = "sqlite"
    transport: str = "threaded"
    workers: Optional[str] = None
    keyword: Optional[str] = None
    pytest_args: Tuple[str, ...] = ()


class SuiteJob(NamedTuple):
    plan: RunPlan
    paths: List[str]


class ServeJob(NamedTuple):
    host: str
    port: int




def available_targets(
    category: str, tests_dir: Path = TESTS_DIR, categories: Mapping[str, Tuple[str, ...]] = CATEGORIES
) -> List[str]:
    """Module names with tests in the category: `fx` for test_fx.py and for test_fx_api.py."""
    names = {
        path.stem[len("test_") :].split("_")[0]
        for folder in categories[category]
        for path in (tests_dir / folder).glob("test_*.py")
    }
    return sorted(name for name in names if name)


def select_paths(
    category: str, target: str, tests_dir: Path = TESTS_DIR, categories: Mapping[str, Tuple[str, ...]] = CATEGORIES
) -> List[str]:
    """The folders (target `all`) or the files (`test_<target>.py`, `test_<target>_*.py`) to run."""
    folders = [tests_dir / folder for folder in categories[category]]
    if target == "all":
        return [relative(folder) for folder in folders]
    chosen = [
        path
        for folder in folders
        for path in sorted(folder.glob("test_*.py"))
        if path.name == f"test_{target}.py" or path.name.startswith(f"test_{target}_")
    ]
    if chosen:
        return [relative(path) for path in chosen]
    names = available_targets(category, tests_dir, categories)
    empty = "" if names else f" (no test_*.py in {', '.join(relative(folder) for folder in folders)} yet)"
    raise UsageError(f"unknown target {target!r} for {category}; available: {', '.join(['all', *names])}{empty}")


def postgres_url(environ: Mapping[str, str]) -> str:
    """DATABASE_URL when it is an asyncpg URL, else the local default."""
    url = environ.get("DATABASE_URL", "")
    return url if url.startswith("postgresql+asyncpg://") else DEFAULT_POSTGRES_URL


def postgres_address(url: str) -> Tuple[str, int]:
    """(host, port) of a PostgreSQL URL; the host is a directory for a Unix socket (`?host=/run/...`)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 5432
    except ValueError:
        raise UsageError(f"the PostgreSQL URL has an invalid port: {parts.netloc.rpartition('@')[2]!r}") from None
    host = parts.hostname or (parse_qs(parts.query).get("host") or ["localhost"])[0]
    return host, port


def check_postgres(url: str, timeout: float = POSTGRES_CONNECT_TIMEOUT_S) -> None:
    """Raise DatabaseUnreachable unless a PostgreSQL server answers at the URL's address.

    After the TCP (or Unix socket) connect we send the 8-byte SSLRequest that every client may open
    with; a server answers one byte, S or N. Some networks accept any TCP connection (a proxy, a
    firewall), and without this a run would spend minutes on connection errors in every test.
    """
    host, port = postgres_address(url)
    try:
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(timeout)
            sock.connect(f"{host}/.s.PGSQL.{port}")
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
        with sock:
            sock.sendall(POSTGRES_SSL_REQUEST)
            answer = sock.recv(1)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise DatabaseUnreachable(
            f"PostgreSQL at {host}:{port} is unreachable ({reason}). "
            "Start one with `docker compose up -d db`, or point DATABASE_URL at yours."
        ) from None
    if answer not in (b"S", b"N"):
        raise DatabaseUnreachable(
            f"something at {host}:{port} accepts connections but does not answer as PostgreSQL "
            f"(got {answer!r} to an SSLRequest); point DATABASE_URL at your PostgreSQL."
        )


def plan_engine(
    plan: RunPlan, python: Sequence[int] = tuple(sys.version_info[:3]), rcfile: Path = COVERAGERC
) -> engines.Engine:
    """The engine a --coverage plan measures with: --coverage-config's, or the fastest exact one here."""
    return engines.engine_for(
        python, branch=compare_configs.rc_branch(rcfile), contexts=plan.contexts, name=plan.coverage_config
    )


def engine_rc(engine: engines.Engine) -> Path:
    """The rc file (relative to the project) pytest-cov runs with, or the reports of slipcover's data use."""
    config = engine.parsed
    as_it_is = config.engine == compare_configs.SLIPCOVER and config.branch == compare_configs.rc_branch(COVERAGERC)
    if config.is_project or as_it_is:
        return Path(".coveragerc")
    return ENGINE_DIR / f"{config.dirname}.coveragerc"


def write_engine_rc(engine: engines.Engine, project_dir: Path = PROJECT_DIR) -> Path:
    """Write the derived rc file an engine needs (none for the rc as it is); returns its path."""
    rc = engine_rc(engine)
    if rc != Path(".coveragerc"):
        compare_configs.write_rc(engine.parsed, project_dir / ".coveragerc", project_dir / rc)
    return rc


def build_pytest_command(
    plan: RunPlan, paths: Sequence[str], python: str = sys.executable, engine: Optional[engines.Engine] = None
) -> List[str]:
    """The pytest command line for a plan; the person's own pytest arguments come last and win.

    With --coverage it runs under `engine` (default: `plan_engine(plan)`): pytest-cov with the
    engine's rc file, or pytest under slipcover, whose JSON `finish_slipcover` then converts.
    """
    command = [python, "-m", "pytest", *paths, "--db", plan.db, "--transport", plan.transport]
    if plan.workers is not None:
        command += ["-n", plan.workers]
    if plan.keyword is not None:
        command += ["-k", plan.keyword]
    if plan.coverage:
        engine = engine or plan_engine(plan)
        if engine.is_slipcover:
            from test_scripts import slipcover_data

            under = slipcover_data.run_command(
                python,
                branch=bool(engine.parsed.branch),
                sources=compare_configs.rc_list(COVERAGERC, "run", "source"),
                omit=compare_configs.rc_list(COVERAGERC, "run", "omit"),
                out=SLIPCOVER_JSON,
            )
            command = [*under, *command[1:], *slipcover_data.PYTEST_ARGS]
        else:
            command += ["--cov", f"--cov-config={engine_rc(engine)}", *COVERAGE_REPORTS]
    if plan.contexts:
        command.append("--cov-context=test")
    return command + list(plan.pytest_args)


def pytest_environment(plan: RunPlan, environ: Mapping[str, str]) -> Dict[str, str]:
    env = without_outer_run(environ)
    if plan.db == "postgres":
        env["TEST_DATABASE_URL"] = postgres_url(environ)
    if plan.contexts:
        env[SHOW_CONTEXTS_VARIABLE] = "True"
    return env


# --- the commands ----------------------------------------------------------------------------



def plan_from_args(args: argparse.Namespace) -> RunPlan:
    return RunPlan(
        category=args.command,
        target=args.target,
        coverage=bool(args.coverage or args.contexts or args.coverage_config),
        contexts=bool(args.contexts),
        coverage_config=args.coverage_config,
        db=args.db or "sqlite",
        transport=args.transport or "threaded",
        workers=args.workers,
        keyword=args.keyword,
        pytest_args=tuple(args.pytest_args),
    )


def prepare_tests(args: argparse.Namespace) -> SuiteJob:
    """Everything that can go wrong before pytest starts, checked with the standard library."""
    plan = plan_from_args(args)
    paths = select_paths(plan.category, plan.target)
    if plan.coverage and not COVERAGERC.is_file():
        raise ProjectError(f"--coverage reads {relative(COVERAGERC)}, and the project has none")
    if plan.coverage_config is not None:
        try:
            plan_engine(plan)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if plan.db == "postgres":
        check_postgres(postgres_url(os.environ))
    return SuiteJob(plan, paths)


def erase_coverage(project_dir: Path = PROJECT_DIR) -> None:
    """Remove the data files (parallel ones too) and reports of an earlier run."""
    import coverage  # the venv has it; this only runs there

    config = coverage.Coverage(config_file=str(project_dir / ".coveragerc")).config
    coverage.CoverageData(basename=str(project_dir / config.data_file)).erase(parallel=True)
    for name in COVERAGE_OUTPUTS:
        path = project_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def ensure_browser(paths: Sequence[str], *, which: Callable[[str], Optional[str]] = shutil.which) -> None:
    """Install Debian's chromium for the harness's browser tests when it is missing and we may.

    As root with apt-get (a container, CI) we install it, saying so; anywhere else one line says
    how, and the browser tests fail with the same advice unless COVREF_SKIP_BROWSER=1.
    """
    if not any(Path(path).name == "test_harness" for path in paths) or which(BROWSER):
        return
    if os.environ.get("COVREF_SKIP_BROWSER") == "1":
        return
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and which("apt-get")):
        say(f"the browser tests need {BROWSER}: `apt-get install -y {' '.join(BROWSER_PACKAGES)}`, "
            "or set COVREF_SKIP_BROWSER=1 to skip them")  # fmt: skip
        return
    say(f"installing Debian's {BROWSER} for the browser tests (apt-get install {' '.join(BROWSER_PACKAGES)})")
    quiet = {"stdout": subprocess.DEVNULL, "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}}
    installed = (
        subprocess.run(["apt-get", "update", "-qq"], **quiet).returncode == 0  # type: ignore[call-overload]
        and subprocess.run(["apt-get", "install", "-y", "-qq", *BROWSER_PACKAGES], **quiet).returncode == 0  # type: ignore[call-overload]
    )
    if not installed:
        say(f"could not install {BROWSER}; the browser tests will fail and say why")


def finish_slipcover(engine: engines.Engine, status: ExitCode, project_dir: Path = PROJECT_DIR) -> ExitCode:
    """slipcover's JSON into the rc's data file, then coverage's reports and fail_under, as pytest-cov does.

    Run after pytest ended with `status`. The data file is coverage.py's (test_scripts/slipcover_data.py
    writes it through coverage's data API), so everything that reads .coverage works unchanged.
    Returns `status`, or TESTS_FAILED when the total is under fail_under, as pytest-cov makes pytest do.
    """
    import coverage
    from coverage.results import display_covered, should_fail_under

    from test_scripts import slipcover_data

    if status not in (ExitCode.OK, ExitCode.TESTS_FAILED):
        return status
    out = project_dir / SLIPCOVER_JSON
    if not out.is_file():
        say(f"slipcover wrote no {SLIPCOVER_JSON}; no coverage reports (its output above says why)")
        return ExitCode.PYTEST_ERROR if status is ExitCode.OK else status
    rc = str(project_dir / engine_rc(engine))
    config = coverage.Coverage(config_file=rc).config
    data_file = str(project_dir / config.data_file)
    conversion = slipcover_data.write_data_file(str(out), data_file, config_file=rc, base_dir=str(project_dir))
    for problem in conversion.problems:
        say(f"slipcover: {problem}")
    cov = coverage.Coverage(config_file=rc, data_file=data_file)
    cov.load()
    print(f"{'':_^30} coverage (slipcover{', branch' if conversion.branch else ''}) {'':_^30}", flush=True)
    total = cov.report(show_missing=True, ignore_errors=True, file=sys.stdout)
    cov.html_report(ignore_errors=True, directory="htmlcov")
    print("Coverage HTML written to dir htmlcov")
    cov.json_report(ignore_errors=True, outfile="coverage.json")
    print("Coverage JSON written to file coverage.json")
    cov.xml_report(ignore_errors=True, outfile="coverage.xml")
    print("Coverage XML written to file coverage.xml", flush=True)
    fail_under, precision = config.fail_under, config.precision
    if fail_under and should_fail_under(total, fail_under, precision):
        print(f"\nERROR: Coverage failure: total of {display_covered(total, precision)} is less than "
              f"fail-under={fail_under:.{precision}f}")  # fmt: skip
        print(f"FAIL Required test coverage of {fail_under}% not reached. Total coverage: {total:.2f}%", flush=True)
        return ExitCode.TESTS_FAILED
    if fail_under:
        print(f"Required test coverage of {fail_under}% reached. Total coverage: {total:.2f}%", flush=True)
    return status


def run_tests(job: SuiteJob) -> ExitCode:
    ensure_browser(job.paths)
    engine = None
    if job.plan.coverage:
        engine = plan_engine(job.plan)
        erase_coverage()
        (PROJECT_DIR / ENGINE_DIR).mkdir(parents=True, exist_ok=True)
        write_engine_rc(engine)
        say(engine.line)
    command = build_pytest_command(job.plan, job.paths, engine=engine)
    say("running " + shlex.join([relative(Path(command[0])), *command[1:]]))
    process = subprocess.Popen(command, cwd=str(PROJECT_DIR), env=pytest_environment(job.plan, os.environ))
    # Ctrl-C reaches pytest too (same process group); we wait for its summary and its exit code.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        status = exit_code_for_pytest(process.wait())
    finally:
        signal.signal(signal.SIGINT, previous)
    if engine is not None and engine.is_slipcover:
        status = finish_slipcover(engine, status)
    return status


def prepare_serve(args: argparse.Namespace) -> ServeJob:
    refuse_test_options(args, "serve")
    refuse_pytest_args(args, "serve")
    return ServeJob(args.host, args.port)


class ServerFailed(RunnerError):
    exit_code = ExitCode.SERVER_FAILED


def check_port_free(host: str, port: int) -> None:
    """Raise ServerFailed when we could not listen on host:port; checked before the slow start-up.

    Otherwise a taken port would show only after the migrations and the ECB load, as uvicorn's
    log lines. SO_REUSEADDR as uvicorn sets it: a port with connections in TIME_WAIT is free.
    """
    try:
        family, kind, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ServerFailed(f"cannot listen on {host}:{port} ({reason}); choose another with --port or --host") from None


def run_serve(job: ServeJob) -> ExitCode:
    """Hand over to app.cli.serve (migrations, the ECB history when the DB is empty, uvicorn)."""
    check_port_free(job.host, job.port)
    os.chdir(PROJECT_DIR)  # the app reads `.env` from the working directory
    sys.path.insert(0, str(PROJECT_DIR / "backend"))
    try:
        module = importlib.import_module("app.cli")
    except ModuleNotFoundError as exc:
        if exc.name not in ("app", "app.cli"):
            raise
        raise ProjectError("backend/app/cli.py is missing; serve runs its serve(host=..., port=...)") from None
    serve = getattr(module, "serve", None)
    if serve is None:
        raise ProjectError("backend/app/cli.py has no serve(host=..., port=...) yet")
    try:
        result = serve(host=job.host, port=job.port)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except SystemExit as exc:  # uvicorn exits when it cannot bind or start the app
        result = exc.code
    if result in (None, 0):
        return ExitCode.OK
    say(f"the server stopped with status {result}")
    return ExitCode.SERVER_FAILED


# --- compare ---------------------------------------------------------------------------------

COMPARE_CATEGORIES: Dict[str, Tuple[str, ...]] = CATEGORIES
# What compare measures for a category: the pattern catalog measures the modules its tests
# drive; the others measure the .coveragerc's [run] source.
COMPARE_SOURCES: Dict[str, Tuple[str, ...]] = {"patterns": ("test_scripts/patterns",)}
COMPARE_REPORTS_DIR = PROJECT_DIR / "reports"


@dataclass(frozen=True)
class CompareJob:
    """A compare command as the person asked for it, checked, defaults filled in."""

    category: str
    target: str
    paths: Tuple[str, ...]
    sources: Tuple[str, ...]  # relative to the project
    config_names: Tuple[str, ...]
    db: str
    transport: str
    pythons: Tuple[Tuple[str, str], ...]  # (version, executable); empty: the venv's own Python
    jobs: int
    pytest_args: Tuple[str, ...]
    command: str


def _compare_command(args: argparse.Namespace, db: str, transport: str) -> str:
    words = ["./test_runner.py", "compare", args.category, args.target]
    for flag, value in (("--configs", args.configs), ("--python", args.python), ("--jobs", args.jobs)):
        if value is not None:
            words += [flag, str(value)]
    words += ["--db", db, "--transport", transport]
    if args.pytest_args:
        words += ["--", *args.pytest_args]
    return shlex.join(words)


def prepare_compare(args: argparse.Namespace) -> CompareJob:
    """Check everything compare can check with the standard library: names, paths, Pythons, database."""
    given = [
        flag
        for flag, dest in TEST_OPTIONS
        if dest not in ("db", "transport") and getattr(args, dest, None) not in (None, False)
    ]
    if given:
        are = "is a test option" if len(given) == 1 else "are test options"
        raise UsageError(f"{', '.join(given)} {are}; compare does not take {'it' if len(given) == 1 else 'them'}")
    try:
        configs = compare_configs.parse_names(args.configs)
    except compare_configs.ConfigError as exc:
        raise UsageError(str(exc)) from None
    paths = select_paths(args.category, args.target, categories=COMPARE_CATEGORIES)
    absent = [path for path in paths if not (PROJECT_DIR / path).exists()]
    if absent:
        raise UsageError(f"{', '.join(absent)} does not exist; compare {args.category} runs the tests there")
    if not COVERAGERC.is_file():
        raise ProjectError(
            f"compare derives every configuration from {relative(COVERAGERC)}, and the project has none"
        )
    sources = COMPARE_SOURCES.get(args.category) or tuple(compare_configs.rc_sources(COVERAGERC))
    if not sources:
        raise ProjectError(f"{relative(COVERAGERC)} has no [run] source; compare measures what it names")
    missing = [source for source in sources if not (PROJECT_DIR / source).is_dir()]
    if missing:
        raise UsageError(f"{', '.join(missing)} does not exist; compare {args.category} measures it")

    pythons: List[compare_pythons.Python] = []
    if args.python is not None:
        try:
            pythons = compare_pythons.find(compare_pythons.parse_versions(args.python))
        except (ValueError, compare_pythons.PythonNotFound) as exc:
            raise UsageError(str(exc)) from None
        old = [python.version for python in pythons if python.version_tuple[:2] < bootstrap.MIN_PYTHON]
        if old:
            raise UsageError(f"Python {', '.join(old)} is too old: the project needs 3.11 or newer")
    versions = [python.version_tuple for python in pythons] or [tuple(sys.version_info[:3])]
    for config in configs:
        for version in versions:
            reason = compare_configs.refusal(config, version)
            if reason:
                raise UsageError(reason)

    db = args.db or "sqlite"
    transport = args.transport or "threaded"
    if db == "postgres":
        check_postgres(postgres_url(os.environ))
    jobs = args.jobs or compare_configs.default_jobs(db)
    return CompareJob(
        category=args.category,
        target=args.target,
        paths=tuple(paths),
        sources=tuple(sources),
        config_names=tuple(config.name for config in configs),
        db=db,
        transport=transport,
        pythons=tuple((python.version, python.executable) for python in pythons),
        jobs=jobs,
        pytest_args=tuple(args.pytest_args),
        command=_compare_command(args, db, transport),
    )


def run_compare(job: CompareJob) -> ExitCode:
    """Build the venv of every --python (`.venv-X.Y`), then measure (test_scripts/compare/run.py)."""
    from test_scripts.compare import run as compare_run

    current = "%d.%d.%d" % sys.version_info[:3]
    pythons = []
    for version, executable in job.pythons or ((current, sys.executable),):
        if version == current:
            pythons.append(compare_pythons.Python(version, sys.executable))
            continue
        short = ".".join(version.split(".")[:2])
        python = bootstrap.ensure_venv(executable, PROJECT_DIR / f".venv-{short}", log=say)
        pythons.append(compare_pythons.Python(version, str(python)))
    suite = compare_run.Suite(
        project_dir=PROJECT_DIR,
        project_rc=COVERAGERC,
        sources=tuple(PROJECT_DIR / source for source in job.sources),
        test_paths=job.paths,
        name=f"{job.category} {job.target}",
        pytest_args=("--db", job.db, "--transport", job.transport, *job.pytest_args),
        db=job.db,
        transport=job.transport,
        env={"TEST_DATABASE_URL": postgres_url(os.environ)} if job.db == "postgres" else {},
    )
    options = compare_run.Options(
        configs=tuple(compare_configs.parse_names(",".join(job.config_names))),
        jobs=job.jobs,
        reports_dir=COMPARE_REPORTS_DIR,
        command=job.command,
    )
    return compare_run.compare(suite, pythons, options, say=lambda message: say(f"compare {message}"))


# --- the parser and the table -----------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is a UsageError (one line, exit USAGE), not usage text and exit 2."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def _workers(value: str) -> str:
    if value in ("auto", "logical") or (value.isascii() and value.isdigit()):
        return value
    raise argparse.ArgumentTypeError(f"expected a number of workers, 'auto' or 'logical', got {value!r}")


def _port(value: str) -> int:
    port = int(value) if value.isascii() and value.isdigit() else -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a TCP port from 1 to 65535, got {value!r}")
    return port


def _add_verbose(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="show the traceback of an internal error",
    )


def _add_test_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Given before or after the category; on the subcommand, only what is given overrides."""
    unset = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--coverage",
        action="store_true",
        default=unset,
        help="measure coverage with .coveragerc; reports in htmlcov/, coverage.json, coverage.xml",
    )
    parser.add_argument(
        "--contexts",
        action="store_true",
        default=unset,
        help="--coverage, recording which test ran each line (shown in htmlcov/; the C tracer, slower)",
    )
    parser.add_argument(
        "--coverage-config",
        metavar="NAME",
        default=unset,
        help="--coverage with this engine, one of compare's configurations "
        f"({', '.join(engines.forced_choices())}); default: the fastest exact one here",
    )
    parser.add_argument(
        "--db",
        choices=DB_CHOICES,
        default=unset,
        help=f"database of the tests (default: sqlite); postgres: DATABASE_URL or {DEFAULT_POSTGRES_URL}",
    )
    parser.add_argument(
        "--transport",
        choices=TRANSPORT_CHOICES,
        default=unset,
        help="how the API tests reach the app (default: threaded, uvicorn in a thread)",
    )
    parser.add_argument(
        "-n", dest="workers", metavar="N", type=_workers, default=unset, help="pytest-xdist workers: N, auto or logical"
    )
    parser.add_argument(
        "-k", dest="keyword", metavar="EXPR", default=unset, help="only tests matching EXPR (pytest -k)"
    )


def _configure_tests(parser: argparse.ArgumentParser) -> None:
    parser.usage = "%(prog)s [options] [TARGET] [-- PYTEST_ARGS ...]"
    parser.add_argument(
        "target",
        nargs="?",
        default="all",
        metavar="TARGET",
        help="all (default) or a module name: fx runs test_fx.py and test_fx_*.py",
    )
    _add_test_options(parser, suppress=True)


def _jobs(value: str) -> int:
    if value.isascii() and value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a number of runs at a time (1 or more), got {value!r}")


def _configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.usage = COMPARE_USAGE
    parser.add_argument(
        "category",
        nargs="?",
        default="api",
        choices=tuple(COMPARE_CATEGORIES),
        metavar="CATEGORY",
        help=f"the suite to measure (default: api): {', '.join(COMPARE_CATEGORIES)}",
    )
    parser.add_argument("target", nargs="?", default="all", metavar="TARGET", help="all (default) or a module name")
    parser.add_argument(
        "--configs",
        metavar="LIST",
        default=None,
        help=f"comma separated, from {compare_configs.known_names_text()}; "
        f"default: {','.join(compare_configs.DEFAULT_NAMES)}",
    )
    parser.add_argument(
        "--python",
        metavar="VERSIONS",
        default=None,
        help="run the matrix on each of these Pythons (e.g. 3.11,3.12,3.13; pyenv or pythonX.Y on PATH)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        metavar="N",
        type=_jobs,
        default=None,
        help="runs at a time (default: the cores; 1 on PostgreSQL)",
    )
    unset = argparse.SUPPRESS
    parser.add_argument("--db", choices=DB_CHOICES, default=unset, help="database of the tests (default: sqlite)")
    parser.add_argument(
        "--transport",
        choices=TRANSPORT_CHOICES,
        default=unset,
        help="how the API tests reach the app (default: threaded)",
    )


def _configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8000, help="port to listen on (default: 8000)")


COMMANDS: Dict[str, Command] = {
    **{
        category: Command(
            help=f"run the tests in {', '.join('test_scripts/' + folder for folder in folders)}",
            configure=_configure_tests,
            prepare=prepare_tests,
            run=run_tests,
        )
        for category, folders in CATEGORIES.items()
    },
    "serve": Command(
        help="apply migrations, load the ECB history into an empty database, serve the API",
        configure=_configure_serve,
        prepare=prepare_serve,
        run=run_serve,
    ),
    "compare": Command(
        help="measure each coverage configuration against the truth; reports/compare.{json,md,html}",
        configure=_configure_compare,
        prepare=prepare_compare,
        run=run_compare,
    ),
    **policy.COMMANDS,
    **mutate.COMMANDS,
    **fuzz.COMMANDS,
    **shuffle.COMMANDS,
    **bench.COMMANDS,
}

COMPARE_USAGE = (
    f"{PROG} compare [CATEGORY [TARGET]] [--configs LIST] [--transport {{threaded,asgi}}] [--db {{sqlite,postgres}}]\n"
    "                              [--python VERSIONS] [-j N] [-- PYTEST_ARGS ...]"
)

USAGE_TEXT = f"""\
{PROG} [--coverage] [--contexts] [--coverage-config NAME] [--db {{sqlite,postgres}}]
                      [--transport {{threaded,asgi}}] [-n N] [-k EXPR] {{{','.join(CATEGORIES)}}} [TARGET] [-- PYTEST_ARGS ...]
       {PROG} serve [--host H] [--port P]
       {COMPARE_USAGE}"""
USAGE_TEXT += "".join(f"\n       {PROG} {command.usage}" for command in COMMANDS.values() if command.usage)


def exit_codes_text() -> str:
    return "\n".join(f"  {int(code):>3}  {code.name:<17} {EXIT_CODE_MEANINGS[code]}" for code in ExitCode)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        usage=USAGE_TEXT,
        description="Run the project's tests (or its server) in a virtual environment built from Pipfile.lock.",
        epilog="exit codes:\n" + exit_codes_text() + f"\n\nThe venv is .venv, or ${bootstrap.VENV_ENV_VAR}.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_verbose(parser, suppress=False)
    _add_test_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", title="commands", required=True)
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, prog=f"{PROG} {name}", help=command.help, description=command.help)
        _add_verbose(sub, suppress=True)
        command.configure(sub)
    return parser


def split_pytest_args(argv: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Everything after the first `--` goes to pytest untouched."""
    argv = list(argv)
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1 :]
    return argv, []


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    ours, theirs = split_pytest_args(argv)
    args, unknown = build_parser().parse_known_args(ours)
    if unknown:
        hint = " (pytest's own options go after --)" if args.command in (*CATEGORIES, "compare") else ""
        raise UsageError(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    args.pytest_args = theirs
    return args


# --- main --------------------------------------------------------------------------------------


def _warn_if_stale(venv_dir: Path) -> None:
    stamp = bootstrap.read_stamp(venv_dir)
    if stamp is None:
        return
    try:
        _, lock_sha256 = bootstrap.read_lock(bootstrap.LOCK_FILE)
    except bootstrap.BootstrapError:
        return
    if stamp.get("lock_sha256") != lock_sha256:
        shown = bootstrap.display_path(venv_dir)
        say(f"warning: Pipfile.lock changed since {shown} was synced; run ./test_runner.py with python3 to re-sync it")


def enter_venv(argv: Sequence[str]) -> None:
    """Return if we run in the venv already; else make it ready and re-execute ourselves in it."""
    venv_dir = bootstrap.venv_dir_from_env()
    if bootstrap.running_in(venv_dir):
        os.environ.pop(REEXEC_GUARD, None)
        _warn_if_stale(venv_dir)
        return
    if os.environ.get(REEXEC_GUARD):
        raise ProjectError(f"re-executed with {sys.executable}, whose prefix {sys.prefix} is not {venv_dir}")
    python = bootstrap.ensure_venv(sys.executable, venv_dir, log=say)
    os.environ[REEXEC_GUARD] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(str(python), [str(python), str(RUNNER_SCRIPT), *argv])


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in split_pytest_args(argv)[0]
    try:
        try:
            args = parse_args(argv)
        except SystemExit as exc:  # --help
            return int(exc.code or 0)
        command = COMMANDS[args.command]
        job = command.prepare(args)
        enter_venv(argv)
        return int(command.run(job))
    except RunnerError as exc:
        say(f"{exc.prefix}{exc}")
        return int(exc.exit_code)
    except bootstrap.BootstrapError as exc:
        if exc.tail:
            print(exc.tail, file=sys.stderr)
        say(str(exc))
        return int(ExitCode.BOOTSTRAP_FAILED)
    except KeyboardInterrupt:
        say("interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        hint = "" if verbose else " (--verbose shows the traceback)"
        say(f"internal error: {type(exc).__name__}: {exc}{hint}")
        return int(ExitCode.INTERNAL_ERROR)
