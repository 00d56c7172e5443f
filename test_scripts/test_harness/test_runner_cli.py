"""Tests for ./test_runner.py: test_scripts/runner/cli.py (the command line) and bootstrap.py (the venv).

We never run the suite recursively: the pytest command line is tested as the list `cli` builds.
Venv decisions run against "fake venvs" made in milliseconds (our base Python, a symlink to our
pip, bare dist-info directories); the two tests that build a real venv from PyPI are marked slow.
"""

from __future__ import annotations

import ast
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pip
import pytest

from test_scripts.runner import bootstrap, cli, engines
from test_scripts.runner.bootstrap import BootstrapError, PythonInfo, VenvState
from test_scripts.runner.cli import ExitCode, RunPlan

RUNNER = cli.RUNNER_SCRIPT
PY = "/venv/bin/python"
# What --coverage adds with the rc as it is (the `project` engine); test_engines.py tests the others.
COVERAGE_ARGS = [
    "--cov",
    "--cov-config=.coveragerc",
    "--cov-report=term-missing",
    "--cov-report=html:htmlcov",
    "--cov-report=json:coverage.json",
    "--cov-report=xml:coverage.xml",
]
PROJECT_LOCK = json.loads(bootstrap.LOCK_FILE.read_text(encoding="utf-8"))
# A small pure-Python wheel with its real hashes: what the slow tests install from PyPI.
INICONFIG = PROJECT_LOCK["develop"]["iniconfig"]
THIS_PYTHON = "%d.%d.%d" % sys.version_info[:3]

Capture = pytest.CaptureFixture[str]
MonkeyPatch = pytest.MonkeyPatch
posix_only = pytest.mark.skipif(os.name == "nt", reason="fake venvs use POSIX symlinks")


# --- helpers -----------------------------------------------------------------------------------


def refused_line(port: int) -> str:
    return (
        f"PostgreSQL at 127.0.0.1:{port} is unreachable (Connection refused). "
        "Start one with `docker compose up -d db`, or point DATABASE_URL at yours."
    )


def ignore(line: str) -> None:
    pass


def run_runner(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """./test_runner.py in a subprocess, told that our venv is its venv, so it never bootstraps."""
    environ = dict(os.environ if env is None else env)
    environ[bootstrap.VENV_ENV_VAR] = sys.prefix
    return subprocess.run(
        [sys.executable, str(RUNNER), *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cli.PROJECT_DIR,
        timeout=60,
    )


def parse(*argv: str) -> RunPlan:
    return cli.plan_from_args(cli.parse_args(argv))


def write_lock(path: Path, *, default: Mapping | None = None, develop: Mapping | None = None) -> Path:
    lock = {
        "_meta": {"hash": {"sha256": "ab" * 32}, "pipfile-spec": 6, "requires": {}, "sources": []},
        "default": dict(default or {}),
        "develop": dict(develop or {}),
    }
    path.write_text(json.dumps(lock, indent=4), encoding="utf-8")
    return path


def lock_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def entry(version: str, *hashes: str, markers: str | None = None, extras: list[str] | None = None) -> dict:
    result: dict = {"version": version, "hashes": list(hashes)}
    if markers is not None:
        result["markers"] = markers
    if extras is not None:
        result["extras"] = extras
    return result


def site_packages(venv_dir: Path) -> Path:
    return venv_dir / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def add_dist(venv_dir: Path, name: str, version: str) -> None:
    """A bare installed distribution: METADATA for importlib.metadata, RECORD for pip uninstall."""
    info = site_packages(venv_dir) / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    (info / "RECORD").write_text(f"{info.name}/METADATA,,\n{info.name}/RECORD,,\n", encoding="utf-8")


def remove_dists(venv_dir: Path) -> None:
    for info in site_packages(venv_dir).glob("*.dist-info"):
        shutil.rmtree(info)


def make_fake_venv(venv_dir: Path, dists: Mapping[str, str], stamp: Mapping[str, str] | None = None) -> Path:
    """A venv in milliseconds: our base Python, our pip (symlinked), `dists` as bare dist-infos."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (venv_dir / "bin").mkdir(parents=True)
    (venv_dir / "bin" / "python").symlink_to(base)
    (venv_dir / "pyvenv.cfg").write_text(
        f"home = {base.parent}\ninclude-system-site-packages = false\nversion = {THIS_PYTHON}\n", encoding="utf-8"
    )
    site_packages(venv_dir).mkdir(parents=True)
    (site_packages(venv_dir) / "pip").symlink_to(Path(pip.__file__).parent)
    for name, version in dists.items():
        add_dist(venv_dir, name, version)
    if stamp is not None:
        bootstrap.write_stamp(venv_dir, stamp)
    return venv_dir


def stamp_for(lock_path: Path, **changes: str) -> dict:
    lock, sha = bootstrap.read_lock(lock_path)
    return dict(bootstrap.wanted_stamp(lock, sha, bootstrap.python_info(sys.executable)), **changes)


class FakeInstall:
    """Stands in for `_create` and `_install`: records the calls, "installs" the lock as dist-infos."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def create(self, info: PythonInfo, venv_dir: Path) -> None:
        self.calls.append("create")
        (venv_dir / bootstrap.STAMP_NAME).unlink(missing_ok=True)
        remove_dists(venv_dir)

    def install(self, venv_dir, packages, lock, lock_path, installer, log) -> None:  # noqa: ANN001
        self.calls.append(f"install:{installer}")
        for package in packages.values():
            for stale in site_packages(venv_dir).glob(f"{package['name']}-*.dist-info"):
                shutil.rmtree(stale)
            add_dist(venv_dir, package["name"], package["version"][2:])


@pytest.fixture
def fake_install(monkeypatch: MonkeyPatch) -> FakeInstall:
    fake = FakeInstall()
    monkeypatch.setattr(bootstrap, "_create", fake.create)
    monkeypatch.setattr(bootstrap, "_install", fake.install)
    return fake


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound but never listening, held for the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@contextmanager
def answering_server(reply: bytes) -> Iterator[int]:
    """A TCP server on 127.0.0.1 that reads one 8-byte message and answers `reply`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(5)

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(8)
            conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        thread.join(10)
        listener.close()


# --- the command line: parsing and the pytest command --------------------------------------------

DEFAULT_DB = ["--db", "sqlite", "--transport", "threaded"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["api"], DEFAULT_DB),
        (["--coverage", "api"], [*DEFAULT_DB, *COVERAGE_ARGS]),
        (["--db", "postgres", "--transport", "asgi", "services"], ["--db", "postgres", "--transport", "asgi"]),
        (["-n", "4", "-k", "rate and not slow", "db"], [*DEFAULT_DB, "-n", "4", "-k", "rate and not slow"]),
        (["-n", "auto", "--coverage", "all"], [*DEFAULT_DB, "-n", "auto", *COVERAGE_ARGS]),
        (
            ["api", "fx", "--coverage", "-n", "2", "--db", "postgres"],
            ["--db", "postgres", "--transport", "threaded", "-n", "2", *COVERAGE_ARGS],
        ),
        (["--db", "postgres", "api", "--db", "sqlite"], DEFAULT_DB),
        (["harness", "--", "-x", "-k", "not slow", "--lf"], [*DEFAULT_DB, "-x", "-k", "not slow", "--lf"]),
        (["-k", "fx", "api", "--", "-p", "no:randomly"], [*DEFAULT_DB, "-k", "fx", "-p", "no:randomly"]),
        (["--contexts", "api"], [*DEFAULT_DB, *COVERAGE_ARGS, "--cov-context=test"]),
        (["--coverage", "--contexts", "api"], [*DEFAULT_DB, *COVERAGE_ARGS, "--cov-context=test"]),
    ],
)
def test_build_pytest_command_for_options(argv: list[str], expected: list[str]) -> None:
    project = engines.forced("project", sys.version_info, contexts=False)
    command = cli.build_pytest_command(parse(*argv), ["PATH"], python=PY, engine=project)
    assert command == [PY, "-m", "pytest", "PATH", *expected]


def test_parse_defaults_category_target_and_options() -> None:
    assert parse("api") == RunPlan(category="api", target="all")


def test_parse_target_after_category() -> None:
    assert parse("services", "fx").target == "fx"


def test_parse_keeps_args_after_double_dash_for_pytest_only() -> None:
    plan = parse("api", "--", "--coverage", "-n", "3", "--", "x")
    assert (plan.coverage, plan.workers, plan.pytest_args) == (False, None, ("--coverage", "-n", "3", "--", "x"))


@pytest.mark.parametrize("workers", ["0", "1", "16", "auto", "logical"])
def test_parse_accepts_workers(workers: str) -> None:
    assert parse("-n", workers, "api").workers == workers


def test_parse_serve_defaults() -> None:
    assert cli.prepare_serve(cli.parse_args(["serve"])) == cli.ServeJob("127.0.0.1", 8000)


def test_parse_serve_host_and_port() -> None:
    job = cli.prepare_serve(cli.parse_args(["serve", "--host", "0.0.0.0", "--port", "8080"]))
    assert job == cli.ServeJob("0.0.0.0", 8080)


def test_pytest_environment_exports_postgres_url() -> None:
    environ = {"DATABASE_URL": "postgresql+asyncpg://me@db:6543/app", "HOME": "/h"}
    env = cli.pytest_environment(parse("--db", "postgres", "api"), environ)
    assert env == {**environ, "TEST_DATABASE_URL": "postgresql+asyncpg://me@db:6543/app"}


def test_pytest_environment_for_sqlite_is_unchanged() -> None:
    assert cli.pytest_environment(parse("api"), {"HOME": "/h"}) == {"HOME": "/h"}


def test_pytest_environment_with_coverage_leaves_contexts_hidden() -> None:
    assert cli.pytest_environment(parse("--coverage", "api"), {"HOME": "/h"}) == {"HOME": "/h"}


def test_pytest_environment_with_contexts_shows_them_in_html() -> None:
    assert cli.pytest_environment(parse("--contexts", "api"), {"HOME": "/h"}) == {"HOME": "/h", "COVREF_SHOW_CONTEXTS": "True"}


# What slipcover's command line hands to the xdist workers of a measured run, as a worker sees it.
SLIPCOVER_WORKER_ENVIRONMENT = {
    "SLIPCOVER_ENABLED": "1", "SLIPCOVER_BRANCH": "1", "SLIPCOVER_SOURCE": "backend/app",
    "SLIPCOVER_EXCLUDE_LINES": "", "PYTEST_XDIST_WORKER": "gw0", "PYTEST_XDIST_WORKER_COUNT": "2",
}  # fmt: skip


def test_pytest_environment_leaves_out_an_outer_runs_measurement() -> None:
    outer = {**SLIPCOVER_WORKER_ENVIRONMENT, "SLIPCOVER_COVERAGE_DIR": "/tmp/parts", "COVERAGE_CORE": "sysmon",
             "COVERAGE_PROCESS_START": "/x/.coveragerc", "COV_CORE_SOURCE": "app", "PYTEST_CURRENT_TEST": "t.py::t (call)"}  # fmt: skip
    mine = {"HOME": "/h", "PYTEST_ADDOPTS": "-x", "DATABASE_URL": "sqlite+aiosqlite:///x.db"}
    assert cli.pytest_environment(parse("--coverage", "api"), {**outer, **mine}) == mine


def test_runner_started_by_a_measured_xdist_worker_runs_its_own_tests(tmp_path: Path) -> None:
    """A harness test that runs the runner inside `--coverage -n 2 all`: its pytest is not the outer worker.

    It used to take itself for worker gw0 (slipcover's plugin reads the environment) and write its
    coverage over the outer gw0's part: `--coverage -n 2 all` reported 42.7% instead of 96%.
    """
    parts = tmp_path / "outer-parts"
    parts.mkdir()
    outer = {**os.environ, **SLIPCOVER_WORKER_ENVIRONMENT, "SLIPCOVER_COVERAGE_DIR": str(parts)}
    result = run_runner("services", "fx", "-k", "test_convert", env=outer)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert list(parts.iterdir()) == []


@pytest.mark.parametrize(("environ", "shown"), [({}, False), ({"COVREF_SHOW_CONTEXTS": "True"}, True)])
def test_coveragerc_shows_contexts_only_when_runner_says(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], shown: bool) -> None:
    import coverage

    monkeypatch.delenv("COVREF_SHOW_CONTEXTS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert coverage.Coverage(config_file=str(cli.COVERAGERC)).config.show_contexts is shown


@pytest.mark.parametrize(
    ("environ", "url"),
    [
        ({"DATABASE_URL": "postgresql+asyncpg://me:pw@db:6543/app"}, "postgresql+asyncpg://me:pw@db:6543/app"),
        ({"DATABASE_URL": "sqlite+aiosqlite:///x.db"}, cli.DEFAULT_POSTGRES_URL),
        ({"DATABASE_URL": "postgresql://me@db/app"}, cli.DEFAULT_POSTGRES_URL),
        ({}, "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
    ],
)
def test_postgres_url_takes_asyncpg_database_url_only(environ: dict[str, str], url: str) -> None:
    assert cli.postgres_url(environ) == url


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("postgresql+asyncpg://u:p@db.example:6543/x", ("db.example", 6543)),
        ("postgresql+asyncpg://u@127.0.0.1/x", ("127.0.0.1", 5432)),
        ("postgresql+asyncpg://u@/x?host=/run/postgresql", ("/run/postgresql", 5432)),
    ],
)
def test_postgres_address(url: str, address: tuple[str, int]) -> None:
    assert cli.postgres_address(url) == address


def test_postgres_address_bad_port_is_usage_error() -> None:
    with pytest.raises(cli.UsageError, match=r"^the PostgreSQL URL has an invalid port: 'h:abc'$"):
        cli.postgres_address("postgresql+asyncpg://u:secret@h:abc/x")


@pytest.mark.parametrize(
    ("returncode", "code"),
    [(0, ExitCode.OK), (1, ExitCode.TESTS_FAILED), (2, ExitCode.INTERRUPTED), (3, ExitCode.PYTEST_ERROR),
     (4, ExitCode.USAGE), (5, ExitCode.NO_TESTS), (-2, ExitCode.INTERRUPTED), (-9, ExitCode.PYTEST_ERROR),
     (99, ExitCode.PYTEST_ERROR)],
)  # fmt: skip
def test_exit_code_for_pytest(returncode: int, code: ExitCode) -> None:
    assert cli.exit_code_for_pytest(returncode) is code


# --- targets ---------------------------------------------------------------------------------


@pytest.fixture
def tests_tree(tmp_path: Path) -> Path:
    for folder in ("test_api", "test_services", "test_db", "test_harness", "test_patterns"):
        (tmp_path / folder).mkdir()
    for name in ("test_api/test_fx.py", "test_api/test_fx_api.py", "test_api/test_fxrates.py",
                 "test_api/test_assets_api.py", "test_api/helpers.py", "test_services/test_fx_service.py"):
        (tmp_path / name).write_text("", encoding="utf-8")  # fmt: skip
    return tmp_path


def test_select_paths_all_is_the_category_folder(tests_tree: Path) -> None:
    assert cli.select_paths("api", "all", tests_tree) == [str(tests_tree / "test_api")]


def test_select_paths_all_category_is_every_folder(tests_tree: Path) -> None:
    names = ("test_api", "test_services", "test_db", "test_harness", "test_patterns")
    expected = [str(tests_tree / name) for name in names]
    assert cli.select_paths("all", "all", tests_tree) == expected


def test_select_paths_target_matches_name_and_underscore_prefix(tests_tree: Path) -> None:
    expected = [str(tests_tree / "test_api" / "test_fx.py"), str(tests_tree / "test_api" / "test_fx_api.py")]
    assert cli.select_paths("api", "fx", tests_tree) == expected


def test_select_paths_target_in_all_spans_categories(tests_tree: Path) -> None:
    assert cli.select_paths("all", "fx", tests_tree) == [
        str(tests_tree / "test_api" / "test_fx.py"),
        str(tests_tree / "test_api" / "test_fx_api.py"),
        str(tests_tree / "test_services" / "test_fx_service.py"),
    ]


def test_select_paths_unknown_target_lists_available(tests_tree: Path) -> None:
    with pytest.raises(cli.UsageError) as raised:
        cli.select_paths("api", "fxr", tests_tree)
    assert str(raised.value) == "unknown target 'fxr' for api; available: all, assets, fx, fxrates"


def test_select_paths_unknown_target_in_empty_category(tests_tree: Path) -> None:
    with pytest.raises(cli.UsageError) as raised:
        cli.select_paths("db", "fx", tests_tree)
    empty = tests_tree / "test_db"
    assert str(raised.value) == f"unknown target 'fx' for db; available: all (no test_*.py in {empty} yet)"


def test_select_paths_in_project_are_relative() -> None:
    assert cli.select_paths("harness", "runner") == [
        "test_scripts/test_harness/test_runner_cli.py",
        "test_scripts/test_harness/test_runner_fuzz.py",
    ]


# --- usage errors, end to end ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["bogus"],
            "argument command: invalid choice: 'bogus' "
            f"(choose from {', '.join(repr(name) for name in cli.COMMANDS)})",
        ),
        ([], "the following arguments are required: command"),
        (["--bogus", "api"], "unrecognized arguments: --bogus (pytest's own options go after --)"),
        (["api", "-x"], "unrecognized arguments: -x (pytest's own options go after --)"),
        (["--db", "mysql", "api"], "argument --db: invalid choice: 'mysql' (choose from 'sqlite', 'postgres')"),
        (["--transport", "tcp", "api"], "argument --transport: invalid choice: 'tcp' (choose from 'threaded', 'asgi')"),
        (["-n", "x", "api"], "argument -n: expected a number of workers, 'auto' or 'logical', got 'x'"),
        (["-n", "-1", "api"], "argument -n: expected a number of workers, 'auto' or 'logical', got '-1'"),
        (["serve", "--port", "99999"], "argument --port: expected a TCP port from 1 to 65535, got '99999'"),
        (["serve", "--port", "abc"], "argument --port: expected a TCP port from 1 to 65535, got 'abc'"),
        (["serve", "--port", "0"], "argument --port: expected a TCP port from 1 to 65535, got '0'"),
        (["--coverage", "-k", "x", "serve"], "--coverage, -k are test options; serve does not take them"),
        (["serve", "--", "-x"], "arguments after -- are for pytest; serve does not take them"),
    ],
)
def test_usage_error_is_one_line_and_exit_usage(args: list[str], message: str) -> None:
    result = run_runner(*args)
    expected = (ExitCode.USAGE, "", f"test_runner.py: error: {message}\n")
    assert (result.returncode, result.stdout, result.stderr) == expected


def test_unknown_target_end_to_end_lists_targets_in_one_line() -> None:
    result = run_runner("harness", "nosuchmodule")
    assert (result.returncode, result.stdout) == (ExitCode.USAGE, "")
    line = r"test_runner\.py: error: unknown target 'nosuchmodule' for harness; available: all(, \w+)*\n"
    assert re.fullmatch(line, result.stderr)
    assert ", runner" in result.stderr


def test_usage_error_in_process_returns_usage(capsys: Capture) -> None:
    assert cli.main(["api", "nosuchmodule"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    expected_start = "test_runner.py: error: unknown target 'nosuchmodule' for api; available: all,"
    assert (err.startswith(expected_start), err.count("\n")) == (True, 1)


def test_help_lists_every_exit_code(capsys: Capture) -> None:
    assert cli.main(["--help"]) == ExitCode.OK
    out = capsys.readouterr().out
    for code in ExitCode:
        assert f"{int(code):>3}  {code.name:<17} {cli.EXIT_CODE_MEANINGS[code]}\n" in out


def test_runner_docstring_lists_every_exit_code() -> None:
    docstring = ast.get_docstring(ast.parse(RUNNER.read_text(encoding="utf-8"))) or ""
    listed = dict(re.findall(r"^\s+(\d+)\s+([A-Z_]+)\s", docstring, flags=re.MULTILINE))
    assert listed == {str(int(code)): code.name for code in ExitCode}


def test_old_python_guard_uses_bootstrap_failed() -> None:
    """test_runner.py checks the version before it can import ExitCode; its literal must agree."""
    found = re.findall(r"sys\.exit\((\d+)\)\s*#\s*ExitCode\.(\w+)", RUNNER.read_text(encoding="utf-8"))
    assert found == [(str(int(ExitCode.BOOTSTRAP_FAILED)), "BOOTSTRAP_FAILED")]


def _old_python() -> str | None:
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin/python")))
    candidates += [shutil.which(f"python{version}") for version in ("2", "3.6", "3.7", "3.8", "3.9", "3.10")]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info < (3, 11))"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


def test_old_python_gets_one_line() -> None:
    old = _old_python()
    if old is None:
        pytest.skip("no Python older than 3.11 on this machine")
    result = subprocess.run([old, str(RUNNER), "api"], capture_output=True, text=True, timeout=60)
    assert result.returncode == ExitCode.BOOTSTRAP_FAILED
    line = r"test_runner\.py: Python 3\.11 or newer is needed; \S+ is [23]\.\d+\.\d+\. "
    line += r"Run it with python3\.11 or newer\.\n"
    assert re.fullmatch(line, result.stderr)


def _boom(args: object) -> object:
    raise RuntimeError("boom")


def test_internal_error_is_one_line_without_verbose(monkeypatch: MonkeyPatch, capsys: Capture) -> None:
    monkeypatch.setitem(cli.COMMANDS, "api", cli.COMMANDS["api"]._replace(prepare=_boom))
    assert cli.main(["api"]) == ExitCode.INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err == "test_runner.py: internal error: RuntimeError: boom (--verbose shows the traceback)\n"


def test_internal_error_with_verbose_shows_traceback(monkeypatch: MonkeyPatch, capsys: Capture) -> None:
    monkeypatch.setitem(cli.COMMANDS, "api", cli.COMMANDS["api"]._replace(prepare=_boom))
    assert cli.main(["--verbose", "api"]) == ExitCode.INTERNAL_ERROR
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith('RuntimeError: boom\ntest_runner.py: internal error: RuntimeError: boom\n')


def test_bootstrap_failure_prints_tail_then_one_line(monkeypatch: MonkeyPatch, capsys: Capture) -> None:
    def fail(argv: object) -> None:
        raise BootstrapError("pip install failed with exit code 1 (its output ends above)", "ERROR: no matching dist")

    monkeypatch.setattr(cli, "enter_venv", fail)
    assert cli.main(["harness"]) == ExitCode.BOOTSTRAP_FAILED
    assert capsys.readouterr().err == (
        "ERROR: no matching dist\ntest_runner.py: pip install failed with exit code 1 (its output ends above)\n"
    )


# --- entering the venv -------------------------------------------------------------------------


class Exec(Exception):
    """Raised by our stand-in for os.execv, which would not return."""


def test_enter_venv_inside_venv_does_nothing(monkeypatch: MonkeyPatch) -> None:
    monkeypatch.setattr(bootstrap, "venv_dir_from_env", lambda: Path(sys.prefix))
    monkeypatch.setattr(bootstrap, "ensure_venv", pytest.fail)
    monkeypatch.setattr(cli.os, "execv", pytest.fail)
    assert cli.enter_venv(["api"]) is None


def test_enter_venv_outside_reexecs_with_same_argv(monkeypatch: MonkeyPatch, tmp_path: Path) -> None:
    seen: list[object] = []
    monkeypatch.setattr(bootstrap, "venv_dir_from_env", lambda: tmp_path / "venv")

    def ensure_venv(python: str, venv_dir: Path, log: object) -> Path:
        seen.append((python, venv_dir))
        return Path("/v/bin/python")

    monkeypatch.setattr(bootstrap, "ensure_venv", ensure_venv)
    monkeypatch.delenv(cli.REEXEC_GUARD, raising=False)

    def execv(path: str, argv: list[str]) -> None:
        raise Exec(path, argv)

    monkeypatch.setattr(cli.os, "execv", execv)
    with pytest.raises(Exec) as raised:
        cli.enter_venv(["api", "fx", "--", "-x"])
    assert seen == [(sys.executable, tmp_path / "venv")]
    assert raised.value.args == ("/v/bin/python", ["/v/bin/python", str(RUNNER), "api", "fx", "--", "-x"])
    assert os.environ[cli.REEXEC_GUARD] == "1"


def test_enter_venv_refuses_to_loop(monkeypatch: MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bootstrap, "venv_dir_from_env", lambda: tmp_path / "venv")
    monkeypatch.setenv(cli.REEXEC_GUARD, "1")
    with pytest.raises(cli.ProjectError, match="^re-executed with "):
        cli.enter_venv(["api"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, bootstrap.PROJECT_DIR / ".venv"),
        (".venv-3.12", bootstrap.PROJECT_DIR / ".venv-3.12"),
        ("/opt/v", Path("/opt/v")),
    ],
)
def test_venv_dir_from_env(value: str | None, expected: Path) -> None:
    environ = {} if value is None else {bootstrap.VENV_ENV_VAR: value}
    assert bootstrap.venv_dir_from_env(environ) == expected


def test_running_in_compares_prefix() -> None:
    assert (bootstrap.running_in(Path(sys.prefix)), bootstrap.running_in(Path(sys.prefix) / "other")) == (True, False)


# --- PostgreSQL --------------------------------------------------------------------------------


def test_check_postgres_refused_is_one_sentence(closed_port: int) -> None:
    with pytest.raises(cli.DatabaseUnreachable) as raised:
        cli.check_postgres(f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/test")
    assert str(raised.value) == refused_line(closed_port)


def test_check_postgres_accepts_server_answering_n() -> None:
    with answering_server(b"N") as port:
        assert cli.check_postgres(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test") is None


def test_check_postgres_rejects_listener_that_is_not_postgres() -> None:
    with answering_server(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port:
        with pytest.raises(cli.DatabaseUnreachable) as raised:
            cli.check_postgres(f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test")
    assert str(raised.value) == (
        f"something at 127.0.0.1:{port} accepts connections but does not answer as PostgreSQL "
        "(got b'H' to an SSLRequest); point DATABASE_URL at your PostgreSQL."
    )


def test_main_postgres_unreachable_returns_db_unreachable(
    closed_port: int, monkeypatch: MonkeyPatch, capsys: Capture
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://u:secret@127.0.0.1:{closed_port}/test")
    monkeypatch.setattr(cli, "enter_venv", pytest.fail)
    assert cli.main(["--db", "postgres", "api"]) == ExitCode.DB_UNREACHABLE
    assert capsys.readouterr().err == f"test_runner.py: {refused_line(closed_port)}\n"


def test_runner_postgres_unreachable_end_to_end(closed_port: int) -> None:
    env = dict(os.environ, DATABASE_URL=f"postgresql+asyncpg://u:secret@127.0.0.1:{closed_port}/test")
    result = run_runner("--db", "postgres", "services", env=env)
    assert (result.returncode, result.stdout) == (ExitCode.DB_UNREACHABLE, "")
    assert result.stderr == f"test_runner.py: {refused_line(closed_port)}\n"


# --- coverage data -----------------------------------------------------------------------------


def test_erase_coverage_removes_data_and_reports_only(tmp_path: Path) -> None:
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\n", encoding="utf-8")
    stale = [".coverage", ".coverage.host.123.XyZ", "coverage.json", "coverage.xml", "htmlcov/index.html"]
    for name in [*stale, "keep.txt", ".coveragerc.bak"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    cli.erase_coverage(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [".coveragerc", ".coveragerc.bak", "keep.txt"]


# --- the lock and the requirements file --------------------------------------------------------


def test_requirement_lines_have_markers_extras_hashes_and_no_duplicates() -> None:
    lock = {
        "default": {
            "Greenlet": entry("==3.5.6", "sha256:bb", "sha256:aa", markers="python_version >= '3.10'"),
            "sqlalchemy": entry("==2.1.9", "sha256:cc", markers="python_version >= '3.11'", extras=["asyncio"]),
            "plain": entry("==1.0", "sha256:dd"),
        },
        "develop": {
            "greenlet": entry("==3.5.6", "sha256:aa", "sha256:ee", markers="python_version >= '3.10'"),
            "coverage": entry("==7.17.3", "sha256:ff", markers="python_version >= '3.11'", extras=["toml"]),
        },
    }
    assert bootstrap.requirement_lines(lock) == [
        "coverage[toml]==7.17.3; python_version >= '3.11' --hash=sha256:ff",
        "Greenlet==3.5.6; python_version >= '3.10' --hash=sha256:aa --hash=sha256:bb --hash=sha256:ee",
        "plain==1.0 --hash=sha256:dd",
        "sqlalchemy[asyncio]==2.1.9; python_version >= '3.11' --hash=sha256:cc",
    ]


@pytest.mark.parametrize(
    ("default_markers", "develop_markers", "merged"),
    [
        ("python_version >= '3.9'", "os_name == 'posix'", "(python_version >= '3.9') or (os_name == 'posix')"),
        ("python_version >= '3.9'", None, ""),
        (None, None, ""),
    ],
)
def test_locked_packages_or_markers_of_duplicates(
    default_markers: str | None, develop_markers: str | None, merged: str
) -> None:
    lock = {"default": {"zope.event": entry("==6.2", "sha256:a", markers=default_markers)},
            "develop": {"Zope_Event": entry("==6.2", "sha256:a", markers=develop_markers)}}  # fmt: skip
    packages = bootstrap.locked_packages(lock)
    assert (list(packages), packages["zope-event"]["markers"]) == (["zope-event"], merged)


@pytest.mark.parametrize(
    ("lock", "message"),
    [
        ({"default": {"x": entry("==1", "sha256:a")}, "develop": {"X": entry("==2", "sha256:a")}},
         "Pipfile.lock pins X to ==1 in [default] and ==2 in [develop]; re-lock with `pipenv lock`"),
        ({"default": {"x": entry("==1")}}, "Pipfile.lock: x in [default] has no hashes; re-lock with `pipenv lock`"),
        ({"develop": {"x": {"editable": True, "path": "."}}},
         "Pipfile.lock: x in [develop] is not pinned with == (version: none); "
         "only pinned, hashed entries can be installed with --require-hashes"),
    ],
)  # fmt: skip
def test_locked_packages_refuses_what_pip_cannot_install(lock: dict, message: str) -> None:
    with pytest.raises(BootstrapError) as raised:
        bootstrap.locked_packages(lock)
    assert str(raised.value) == message


def test_requirement_lines_of_project_lock_cover_both_sections_once() -> None:
    names = {bootstrap.canonical_name(name) for section in ("default", "develop") for name in PROJECT_LOCK[section]}
    lines = bootstrap.requirement_lines(PROJECT_LOCK)
    assert len(lines) == len(names)
    line_format = r"[\w.\-]+(\[[\w,]+\])?==\S+(; [^-]+)?( --hash=sha256:[0-9a-f]{64})+"
    assert [line for line in lines if not re.fullmatch(line_format, line)] == []


def test_read_lock_hashes_the_bytes(tmp_path: Path) -> None:
    path = write_lock(tmp_path / "Pipfile.lock")
    assert bootstrap.read_lock(path)[1] == lock_sha256(path)


def test_read_lock_invalid_json_is_bootstrap_error(tmp_path: Path) -> None:
    path = tmp_path / "Pipfile.lock"
    path.write_text("{", encoding="utf-8")
    with pytest.raises(BootstrapError, match=r"is not valid JSON .*; regenerate it with `pipenv lock`$"):
        bootstrap.read_lock(path)


@pytest.mark.parametrize(
    ("installed", "locked", "same"),
    [("2.3.1", "2.3.1", True), ("2.0", "2.0.0", True), ("2.3.0", "2.3.1", False), ("1.0rc1", "1.0", False)],
)
def test_same_version(installed: str, locked: str, same: bool) -> None:
    assert bootstrap.same_version(installed, locked) is same


def test_diff_venv_missing_wrong_extra_and_inapplicable() -> None:
    packages = bootstrap.locked_packages({"default": {
        "a": entry("==1.0", "sha256:x"), "b": entry("==2.0", "sha256:x"), "c": entry("==3.0", "sha256:x"),
        "win-only": entry("==1.0", "sha256:x", markers="sys_platform == 'win32'")}})  # fmt: skip
    report = {"installed": {"a": "1.0", "b": "2.1", "pip": "23.2.1", "setuptools": "65.5.0", "stray": "0.1"},
              "applicable": ["a", "b", "c"]}  # fmt: skip
    diff = bootstrap.diff_venv(report, packages)
    assert diff == bootstrap.VenvDiff(missing=["c"], wrong_version=["b is 2.1, the lock pins 2.0"], extra=["stray"])


# --- the stamp ---------------------------------------------------------------------------------

WANTED = {
    "lock_sha256": "1" * 64,
    "lock_meta_sha256": "2" * 64,
    "python_version": "3.11.7",
    "python_implementation": "cpython",
}


def fake_venv_dir(tmp_path: Path, stamp: Mapping[str, str] | None) -> Path:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("", encoding="utf-8")
    if stamp is not None:
        bootstrap.write_stamp(tmp_path, stamp)
    return tmp_path


@pytest.mark.parametrize(
    ("stamp", "state"),
    [
        (WANTED, VenvState.CURRENT),
        ({**WANTED, "installer": "pip"}, VenvState.CURRENT),
        ({**WANTED, "lock_sha256": "3" * 64}, VenvState.STALE_LOCK),
        ({**WANTED, "python_version": "3.12.1"}, VenvState.OTHER_PYTHON),
        ({**WANTED, "python_implementation": "pypy"}, VenvState.OTHER_PYTHON),
        ({**WANTED, "lock_sha256": "3" * 64, "python_version": "3.12.1"}, VenvState.OTHER_PYTHON),
        (None, VenvState.UNSTAMPED),
    ],
)
def test_venv_state_from_stamp(tmp_path: Path, stamp: dict | None, state: VenvState) -> None:
    assert bootstrap.venv_state(fake_venv_dir(tmp_path, stamp), WANTED) is state


def test_venv_state_fresh_directory_is_absent(tmp_path: Path) -> None:
    assert bootstrap.venv_state(tmp_path / ".venv", WANTED) is VenvState.ABSENT


def test_venv_state_unreadable_stamp_is_unstamped(tmp_path: Path) -> None:
    venv_dir = fake_venv_dir(tmp_path, None)
    (venv_dir / bootstrap.STAMP_NAME).write_text("not json", encoding="utf-8")
    assert bootstrap.venv_state(venv_dir, WANTED) is VenvState.UNSTAMPED


def test_wanted_stamp_records_lock_and_python(tmp_path: Path) -> None:
    path = write_lock(tmp_path / "Pipfile.lock")
    lock, sha = bootstrap.read_lock(path)
    assert bootstrap.wanted_stamp(lock, sha, PythonInfo("/p", "3.11.7", "cpython")) == {
        "lock_sha256": lock_sha256(path),
        "lock_meta_sha256": "ab" * 32,
        "python_version": "3.11.7",
        "python_implementation": "cpython",
    }


# --- ensure_venv's decisions, on fake venvs ------------------------------------------------------


@posix_only
def test_ensure_venv_current_starts_no_process(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    venv_dir = make_fake_venv(tmp_path / "venv", {"iniconfig": "2.3.1"}, stamp=stamp_for(lock_path, installer="pip"))
    monkeypatch.setattr(bootstrap.subprocess, "run", pytest.fail)
    log: list[str] = []
    python = bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, log=log.append)
    assert python == venv_dir / "bin" / "python"
    assert log == []


@posix_only
def test_ensure_venv_adopts_unstamped_venv_matching_lock(tmp_path: Path, fake_install: FakeInstall) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    venv_dir = make_fake_venv(tmp_path / "venv", {"iniconfig": "2.3.1"})
    log: list[str] = []
    bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, log=log.append)
    adopted = f"adopting {venv_dir}: it has Python {THIS_PYTHON} and exactly the packages of Pipfile.lock"
    assert (fake_install.calls, log) == ([], [adopted])
    assert bootstrap.read_stamp(venv_dir) == stamp_for(lock_path, installer="adopted")


@posix_only
@pytest.mark.parametrize(
    ("dists", "reason"),
    [
        ({"iniconfig": "2.3.0"}, "iniconfig is 2.3.0, the lock pins 2.3.1"),
        ({}, "iniconfig is missing"),
        ({"iniconfig": "2.3.1", "stray": "1.0"}, "stray is installed but not in the lock"),
    ],
)
def test_ensure_venv_recreates_unstamped_venv_not_matching(
    tmp_path: Path, fake_install: FakeInstall, dists: dict[str, str], reason: str
) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    venv_dir = make_fake_venv(tmp_path / "venv", dists)
    log: list[str] = []
    bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, installer="pip", log=log.append)
    assert fake_install.calls == ["create", "install:pip"]
    assert log == [
        f"{venv_dir} does not match Pipfile.lock ({reason}); recreating it with Python {THIS_PYTHON}",
        f"{venv_dir} is ready",
    ]
    assert bootstrap.read_stamp(venv_dir) == stamp_for(lock_path, installer="pip")


@posix_only
def test_ensure_venv_recreates_venv_of_other_python(tmp_path: Path, fake_install: FakeInstall) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    stamp = stamp_for(lock_path, python_version="3.10.13", installer="pip")
    venv_dir = make_fake_venv(tmp_path / "venv", {"iniconfig": "2.3.1"}, stamp=stamp)
    log: list[str] = []
    bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, installer="pip", log=log.append)
    assert fake_install.calls == ["create", "install:pip"]
    assert log[0] == f"{venv_dir} was made with Python 3.10.13, not {THIS_PYTHON}; recreating it"
    assert bootstrap.read_stamp(venv_dir)["python_version"] == THIS_PYTHON


@posix_only
def test_ensure_venv_resyncs_stale_lock_in_place_and_uninstalls_dropped(
    tmp_path: Path, fake_install: FakeInstall
) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    stamp = stamp_for(lock_path, lock_sha256="0" * 64, installer="pip")
    venv_dir = make_fake_venv(tmp_path / "venv", {"iniconfig": "2.3.0", "dropped": "1.0"}, stamp=stamp)
    log: list[str] = []
    bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, installer="pip", log=log.append)
    assert fake_install.calls == ["install:pip"]
    assert log == [
        f"Pipfile.lock changed since {venv_dir} was synced; re-syncing it",
        "uninstalling what Pipfile.lock no longer lists: dropped",
        f"{venv_dir} is ready",
    ]
    assert sorted(p.name for p in site_packages(venv_dir).glob("*.dist-info")) == ["iniconfig-2.3.1.dist-info"]
    assert bootstrap.read_stamp(venv_dir) == stamp_for(lock_path, installer="pip")


@posix_only
def test_ensure_venv_fails_when_install_leaves_venv_unlike_lock(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    venv_dir = make_fake_venv(tmp_path / "venv", {}, stamp=stamp_for(lock_path, lock_sha256="0" * 64))
    monkeypatch.setattr(bootstrap, "_install", lambda *args: None)
    with pytest.raises(BootstrapError) as raised:
        bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, installer="pip", log=ignore)
    assert str(raised.value) == f"{venv_dir} does not match Pipfile.lock after pip ran: iniconfig is missing"
    assert bootstrap.read_stamp(venv_dir) is None


@posix_only
def test_ensure_venv_uses_pipenv_sync_when_installed(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    """A stand-in `pipenv` on PATH records how it was called and "installs" the lock."""
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    venv_dir = make_fake_venv(tmp_path / "venv", {}, stamp=stamp_for(lock_path, lock_sha256="0" * 64))
    record = tmp_path / "pipenv-call.json"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pipenv").write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "from pathlib import Path\n"
        "names = ('PIPENV_VENV_IN_PROJECT', 'VIRTUAL_ENV', 'PIPENV_PIPFILE')\n"
        f"Path({str(record)!r}).write_text(json.dumps([sys.argv[1:], {{n: os.environ.get(n) for n in names}}]))\n"
        f"info = Path({str(site_packages(venv_dir))!r}) / 'iniconfig-2.3.1.dist-info'\n"
        "info.mkdir()\n"
        "(info / 'METADATA').write_text('Metadata-Version: 2.1\\nName: iniconfig\\nVersion: 2.3.1\\n')\n",
        encoding="utf-8",
    )
    (bin_dir / "pipenv").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    log: list[str] = []
    bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, log=log.append)
    assert json.loads(record.read_text()) == [
        ["sync", "--dev"],
        {"PIPENV_VENV_IN_PROJECT": "1", "VIRTUAL_ENV": str(venv_dir), "PIPENV_PIPFILE": str(tmp_path / "Pipfile")},
    ]
    assert log[1] == f"installing Pipfile.lock into {venv_dir} with `pipenv sync --dev`"
    assert bootstrap.read_stamp(venv_dir) == stamp_for(lock_path, installer="pipenv")


@posix_only
def test_ensure_venv_uses_pip_without_pipenv(
    tmp_path: Path,
    fake_install: FakeInstall,
    monkeypatch: MonkeyPatch,
) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    venv_dir = make_fake_venv(tmp_path / "venv", {}, stamp=stamp_for(lock_path, lock_sha256="0" * 64))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, log=ignore)
    assert fake_install.calls == ["install:pip"]


def test_ensure_venv_refuses_to_clear_a_directory_that_is_not_a_venv(tmp_path: Path) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "precious.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(BootstrapError) as raised:
        bootstrap.ensure_venv(sys.executable, tmp_path / "data", lock_path=lock_path, log=ignore)
    assert str(raised.value) == (
        f"{tmp_path / 'data'} exists and is not a virtual environment; "
        "move it away or set COVREF_VENV to another directory"
    )
    assert (tmp_path / "data" / "precious.txt").read_text(encoding="utf-8") == "keep me"


def test_ensure_venv_refuses_python_older_than_311(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    old = PythonInfo("/usr/bin/python3.10", "3.10.13", "cpython")
    monkeypatch.setattr(bootstrap, "python_info", lambda python: old)
    with pytest.raises(BootstrapError) as raised:
        bootstrap.ensure_venv("python3.10", tmp_path / "venv", lock_path=write_lock(tmp_path / "Pipfile.lock"))
    assert str(raised.value) == "Python 3.11 or newer is needed; /usr/bin/python3.10 is 3.10.13"


def test_python_info_of_missing_python(tmp_path: Path) -> None:
    with pytest.raises(BootstrapError, match=r"^/nonexistent/python9: no such Python \(not a path, not on PATH\)$"):
        bootstrap.python_info("/nonexistent/python9")


def test_inspect_venv_reports_this_venv() -> None:
    packages = bootstrap.locked_packages(PROJECT_LOCK)
    report = bootstrap.inspect_venv(Path(sys.executable), packages)
    assert report is not None
    assert (report["python_version"], report["installed"]["pytest"]) == (THIS_PYTHON, "9.2.0")
    assert sorted(report["applicable"]) == sorted(packages)


# --- real venvs from PyPI (slow: network, about a minute) ----------------------------------------


@pytest.mark.slow
def test_ensure_venv_builds_real_venv_then_starts_at_once(tmp_path: Path) -> None:
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": INICONFIG})
    venv_dir = tmp_path / "venv"
    log: list[str] = []
    python = bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, installer="pip", log=log.append)
    assert log == [
        f"creating {venv_dir} with Python {THIS_PYTHON} ({bootstrap.python_info(sys.executable).executable})",
        f"installing 1 packages from Pipfile.lock into {venv_dir} with pip --require-hashes",
        f"{venv_dir} is ready",
    ]
    probe = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('iniconfig'))"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert probe.stdout == "2.3.1\n"
    assert (venv_dir / bootstrap.REQUIREMENTS_NAME).read_text(encoding="utf-8") == (
        f"iniconfig==2.3.1; python_version >= '3.10' {' '.join('--hash=' + h for h in sorted(INICONFIG['hashes']))}\n"
    )
    assert bootstrap.read_stamp(venv_dir) == stamp_for(lock_path, installer="pip")
    log.clear()
    again = bootstrap.ensure_venv(sys.executable, venv_dir, lock_path=lock_path, installer="pip", log=log.append)
    assert again == python
    assert log == []


@pytest.mark.slow
def test_ensure_venv_wrong_hash_fails_with_pip_tail(tmp_path: Path) -> None:
    forged = dict(INICONFIG, hashes=["sha256:" + "0" * 64])
    lock_path = write_lock(tmp_path / "Pipfile.lock", develop={"iniconfig": forged})
    with pytest.raises(BootstrapError) as raised:
        bootstrap.ensure_venv(sys.executable, tmp_path / "venv", lock_path=lock_path, installer="pip", log=ignore)
    assert str(raised.value) == "pip install failed with exit code 1 (its output ends above)"
    assert "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" in raised.value.tail
    assert bootstrap.read_stamp(tmp_path / "venv") is None


# --- the browser the harness needs ----------------------------------------------------------------


@pytest.fixture
def apt_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the commands ensure_browser would run, running none."""
    calls: list[list[str]] = []
    monkeypatch.setattr(cli.subprocess, "run", lambda command, **_: calls.append(command) or subprocess.CompletedProcess(command, 0))
    monkeypatch.delenv("COVREF_SKIP_BROWSER", raising=False)
    return calls


def no_chromium(name: str) -> str | None:
    return None if name == "chromium" else f"/usr/bin/{name}"


def test_ensure_browser_installs_chromium_as_root_for_harness(monkeypatch: pytest.MonkeyPatch, apt_calls: list[list[str]]) -> None:
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    cli.ensure_browser(["test_scripts/test_api", "test_scripts/test_harness"], which=no_chromium)
    assert apt_calls == [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]]


def test_ensure_browser_only_advises_when_not_root(
    monkeypatch: pytest.MonkeyPatch, apt_calls: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)
    cli.ensure_browser(["test_scripts/test_harness"], which=no_chromium)
    assert apt_calls == []
    assert "apt-get install -y chromium" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("paths", "which", "skip"),
    [
        (["test_scripts/test_api"], no_chromium, None),  # no browser test selected
        (["test_scripts/test_harness"], lambda name: f"/usr/bin/{name}", None),  # already there
        (["test_scripts/test_harness"], no_chromium, "1"),  # the person chose to skip
    ],
)
def test_ensure_browser_installs_nothing_when_not_needed(
    monkeypatch: pytest.MonkeyPatch, apt_calls: list[list[str]], paths: list[str], which: object, skip: str | None
) -> None:
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    if skip:
        monkeypatch.setenv("COVREF_SKIP_BROWSER", skip)
    cli.ensure_browser(paths, which=which)  # type: ignore[arg-type]
    assert apt_calls == []



@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--coverage-config", "thread", "fuzz"], "--coverage-config is a test option; fuzz does not take it"),
        (["--db", "postgres", "mutate"], "--db is a test option; mutate does not take it"),
        (["-n", "2", "--contexts", "check"], "--contexts, -n are test options; check does not take them"),
        (["--coverage", "bench"], "--coverage is a test option; bench does not take it"),
        (["serve", "--", "-x"], "arguments after -- are for pytest; serve does not take them"),
    ],
)
def test_other_commands_refuse_the_test_options_in_one_line(args: list[str], message: str) -> None:
    parsed = cli.parse_args(args)
    with pytest.raises(cli.UsageError, match=f"^{re.escape(message)}$"):
        cli.COMMANDS[parsed.command].prepare(parsed)
