"""Ctrl-C in the middle of a PostgreSQL run leaves nothing behind, and the runner says INTERRUPTED.

We start `./test_runner.py --db postgres -n 2 api` in a process group of its own, wait until
both pytest-xdist workers have made their databases and tests are running, and send SIGINT to
the group, as a terminal does on Ctrl-C. Then every process of the group must be gone (so no
server thread or listening socket survives), and so must every database the run made.

The run gets a base database of its own (`DATABASE_URL`), so its workers' databases have names
no other run on the shared server uses, and the test can tell exactly which ones were left.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import create_engine
from test_scripts.runner.base import ExitCode

PROJECT_DIR = Path(__file__).resolve().parents[2]
RUNNER = PROJECT_DIR / "test_runner.py"
WORKERS = 2
# Enough for two workers to start under load on two shared cores; then a few tests run.
STARTUP_DEADLINE_S = 90.0
RUNNING_BEFORE_INTERRUPT_S = 3.0
EXIT_DEADLINE_S = 60.0

pytestmark = pytest.mark.postgres_only


async def _autocommit(url: str, statement: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            result = await connection.execute(text(statement))
            return [row[0] for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


def databases_named(admin_url: str, prefix: str) -> list[str]:
    # The prefix is ours (letters, digits, underscores): no quoting needed in LIKE, bar the _.
    pattern = prefix.replace("_", r"\_") + "%"
    query = f"SELECT datname FROM pg_database WHERE datname LIKE '{pattern}'"
    return sorted(asyncio.run(_autocommit(admin_url, query)))


@pytest.fixture
def run_database(database_url: str) -> Iterator[tuple[str, str]]:
    """(admin URL, URL of an empty base database for the interrupted run), dropped afterwards."""
    admin = make_url(database_url)
    name = f"{admin.database}_interrupt_{secrets.token_hex(4)}"
    admin_url = admin.render_as_string(hide_password=False)
    asyncio.run(_autocommit(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url, admin.set(database=name).render_as_string(hide_password=False)
    finally:
        for leftover in databases_named(admin_url, name):
            asyncio.run(_autocommit(admin_url, f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)'))


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_mid_run_leaves_no_process_or_database_and_exits_interrupted(
    run_database: tuple[str, str], tmp_path: Path
) -> None:
    admin_url, base_url = run_database
    base = make_url(base_url).database
    assert base is not None
    worker_databases = [f"{base}_gw{index}" for index in range(WORKERS)]
    output = tmp_path / "runner.log"
    # Our own xdist identity, if any, the runner leaves out of its pytest (without_outer_run).
    env = {**os.environ, "DATABASE_URL": base_url}
    env.pop("TEST_DATABASE_URL", None)

    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, str(RUNNER), "--db", "postgres", "-n", str(WORKERS), "api"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    pgid = process.pid
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while databases_named(admin_url, f"{base}_") != worker_databases:
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, f"workers' databases not made in {STARTUP_DEADLINE_S} s"
            time.sleep(0.2)
        time.sleep(RUNNING_BEFORE_INTERRUPT_S)
        assert process.poll() is None, "the run ended before we could interrupt it"

        os.killpg(pgid, signal.SIGINT)
        returncode = process.wait(EXIT_DEADLINE_S)
        # The runner has returned; its children (the pytest controller, the workers) must have too.
        deadline = time.monotonic() + 5
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        still_running = group_alive(pgid)
    finally:
        if group_alive(pgid):
            os.killpg(pgid, signal.SIGKILL)
            process.wait(10)

    log_text = output.read_text()
    assert returncode == ExitCode.INTERRUPTED, log_text
    assert not still_running, "processes of the interrupted run are still running"
    assert databases_named(admin_url, f"{base}_") == [], log_text
