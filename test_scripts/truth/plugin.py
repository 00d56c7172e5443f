"""pytest plugin: record the truth (which lines ran) over a whole test session.

    python -m pytest -p test_scripts.truth.plugin --truth-out reports/truth.json

Use ``python -m pytest`` so the current directory is importable for ``-p``. Recording starts in
``pytest_load_initial_conftests`` (tryfirst, as pytest-cov starts coverage), before any conftest.py
is imported, so application modules imported by a conftest are recorded from their first line. It
stops at ``pytest_sessionfinish``, after every fixture has been torn down.

Under pytest-xdist every worker records its own process and writes ``PATH.<workerid>``; the
controller, which imports the conftest files too, unions its own recording with the parts of the
workers it saw finish and writes ``PATH``, then removes the parts. A worker whose part is missing
is named in the record's ``problems``.

The truth must be recorded in a run of its own: on Python 3.11 the settrace engine and coverage's
tracer cannot share the trace hook, and the recorder refuses to start if one is installed.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

from test_scripts.truth.recorder import ENGINES, LineRecorder, RecorderError, TruthRecord, load, merge

DEFAULT_SOURCE = "backend/app"
_PLUGIN_NAME = "truth_recorder"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("truth", "independent record of executed lines (no coverage.py tracer)")
    group.addoption(
        "--truth-out",
        metavar="PATH",
        default=None,
        help="record executed lines under --truth-source and write them to PATH as JSON",
    )
    group.addoption(
        "--truth-source",
        metavar="DIR",
        action="append",
        default=None,
        help=f"directory to record (repeatable, or comma separated; default {DEFAULT_SOURCE})",
    )
    group.addoption(
        "--truth-engine",
        choices=ENGINES,
        default="auto",
        help="sysmon (Python 3.12+), settrace, or auto (sysmon where available)",
    )


def source_roots(values: list[str] | None, base: Path) -> list[str]:
    """The --truth-source values as absolute paths, relative ones taken from `base`."""
    roots = []
    for value in values or [DEFAULT_SOURCE]:
        for part in value.split(","):
            if part.strip():
                roots.append(str((base / part.strip()).resolve()))
    return roots


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    options = early_config.known_args_namespace
    if not options.truth_out:
        return
    base = early_config.invocation_params.dir
    roots = source_roots(options.truth_source, base)
    missing = [root for root in roots if not os.path.isdir(root)]
    if missing:
        raise pytest.UsageError(f"--truth-source: {', '.join(missing)} is not a directory")
    out = str((base / options.truth_out).resolve())
    try:
        recorder = LineRecorder(roots, engine=options.truth_engine)
        recorder.start()
    except RecorderError as error:
        raise pytest.UsageError(f"--truth-out: {error}") from error
    early_config.pluginmanager.register(TruthPlugin(recorder, out), _PLUGIN_NAME)


class TruthPlugin:
    """Stops the recorder at the end of the session and writes (or merges) the record."""

    def __init__(self, recorder: LineRecorder, out: str) -> None:
        self.recorder = recorder
        self.out = out
        self.worker_id: str | None = None
        self.finished_workers: list[str] = []
        self.written: TruthRecord | None = None
        self._done = False

    def pytest_configure(self, config: pytest.Config) -> None:
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None:
            self.worker_id = workerinput["workerid"]
        else:
            # Parts left by an earlier run (say one with more workers) must not be merged into
            # this one. Workers start after pytest_configure, so nothing of ours is there yet.
            for stale in glob.glob(glob.escape(self.out) + ".gw*"):
                os.remove(stale)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: object, error: object) -> None:
        self.finished_workers.append(node.gateway.id)  # type: ignore[attr-defined]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.finish()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # A session that never started (a usage error) still stops the tracer.
        self.finish()

    def finish(self) -> None:
        if self._done:
            return
        self._done = True
        self.recorder.stop()
        os.makedirs(os.path.dirname(self.out) or ".", exist_ok=True)
        record = self.recorder.record()
        if self.worker_id is not None:
            record.save(f"{self.out}.{self.worker_id}")
            self.written = record
            return
        parts = [f"{self.out}.{worker}" for worker in sorted(set(self.finished_workers))]
        present = [part for part in parts if os.path.exists(part)]
        record = merge([record, *(load(part) for part in present)])
        record.problems.extend(f"xdist worker part {part} was not written" for part in parts if part not in present)
        record.save(self.out)
        for part in present:
            os.remove(part)
        self.written = record

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        record = self.written
        if record is None or self.worker_id is not None:
            return
        total = sum(len(lines) for lines in record.lines.values())
        terminalreporter.write_line(
            f"truth: {total} lines in {len(record.lines)} files under {', '.join(record.source_roots)} "
            f"({'+'.join(record.engines)}) written to {self.out}"
        )
        if record.imported_before_start:
            terminalreporter.write_line(
                "truth: imported before recording started, module-level lines unrecorded: "
                + ", ".join(record.imported_before_start),
                yellow=True,
            )
        for problem in record.problems:
            terminalreporter.write_line(f"truth: {problem}", red=True)

