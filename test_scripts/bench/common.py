"""What the sections share: the error they raise, and a timed child process."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from test_scripts.runner.base import ExitCode, RunnerError


class BenchError(RunnerError):
    """A measurement could not be taken (a run failed, a server did not answer); one line says where."""

    exit_code = ExitCode.TESTS_FAILED


@dataclass(frozen=True)
class Timed:
    wall_s: float
    returncode: int
    log: Path


def run_timed(command: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path) -> Timed:
    """Run `command` to completion, its output in `log`; the wall time from spawn to exit."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        out.write(f"$ {shlex.join(command)}\n\n".encode())
        out.flush()
        begin = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=str(cwd), env=dict(env), stdout=out, stderr=subprocess.STDOUT)
        try:
            returncode = process.wait()
        except BaseException:  # Ctrl-C: the child got it too; give it a moment, then make sure
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            raise
        return Timed(time.perf_counter() - begin, returncode, log)
