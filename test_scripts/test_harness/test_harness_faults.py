"""The harness when its sockets fail: a port already taken, an address that is not ours.

PostgreSQL unreachable for `--db postgres` is test_runner_cli.py's (DB_UNREACHABLE), a failing
lifespan start-up test_server_helper.py's, Ctrl-C test_interrupt.py's.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from test_scripts.runner import cli
from test_scripts.runner.base import ExitCode
from test_scripts.test_server_helper import ThreadedServer

PROJECT_DIR = Path(__file__).resolve().parents[2]
# TEST-NET-3 (RFC 5737): never an address of this machine.
FOREIGN_ADDRESS = "203.0.113.7"


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_serve_on_taken_port_is_one_line_and_server_failed(taken_port: int) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "test_runner.py"), "serve", "--port", str(taken_port)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (ExitCode.SERVER_FAILED, "")
    assert result.stderr == (
        f"test_runner.py: cannot listen on 127.0.0.1:{taken_port} (Address already in use); "
        "choose another with --port or --host\n"
    )
    # Refused before the migrations and the ECB load, which take seconds.
    assert time.monotonic() - started < 30


def test_check_port_free_refuses_address_not_of_this_machine() -> None:
    expected = rf"^cannot listen on {FOREIGN_ADDRESS}:8000 \(Cannot assign requested address\)"
    with pytest.raises(cli.ServerFailed, match=expected):
        cli.check_port_free(FOREIGN_ADDRESS, 8000)


def test_check_port_free_accepts_port_just_released() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cli.check_port_free("127.0.0.1", port)


def test_threaded_server_on_address_not_of_this_machine_fails_at_once_leaving_no_thread() -> None:
    threads_before = set(threading.enumerate())
    server = ThreadedServer(Starlette(), host=FOREIGN_ADDRESS, timeout=5.0)

    with pytest.raises(OSError, match="Cannot assign requested address"):
        server.start()

    assert set(threading.enumerate()) == threads_before
    server.stop()  # nothing to stop: no thread was started
