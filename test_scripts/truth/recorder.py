"""Record which lines ran, without coverage.py's tracer.

This is the reference the compare command measures coverage configurations against, so it has to
be right where coverage's tracers can go wrong. Coverage's C and Python tracers keep a stack of
"which file am I recording into" that is pushed on call and popped on return; greenlet switches
(SQLAlchemy's asyncio layer makes one under every database await) emit neither, and the stack goes
stale. We keep no stack at all: every line event carries its own frame or code object, and we
record the line into that code's own file.

Two engines:

* ``sysmon`` (Python 3.12+): a ``sys.monitoring`` LINE callback. Events are per interpreter, so
  every thread and every greenlet is seen, including threads started before :meth:`start`. Each
  location is reported once and then disabled, which keeps the cost near zero.
* ``settrace`` (any Python): ``sys.settrace`` plus ``threading.settrace``. The global trace function
  hands a local tracer only to frames whose file is under the source roots, and the local tracer
  records ``frame.f_lineno`` on "line" events. Tracing is per thread, so threads already running
  when :meth:`start` is called are not traced on 3.11 (3.12+ has ``threading.settrace_all_threads``,
  which we use). Start before the code under test is imported.

Both engines record raw line numbers, the same ones coverage's tracers would record; turning them
into coverage's statement numbering is :mod:`test_scripts.truth.mapping`'s job.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import CodeType, FrameType
from typing import Any

logger = logging.getLogger(__name__)

FORMAT = "truth-lines/1"
ENGINES = ("auto", "sysmon", "settrace")
# sys.monitoring reserves 0 (debugger), 1 (coverage), 2 (profiler) and 5 (optimizer) by
# convention; 3 and 4 are left for tools like this one.
_TOOL_IDS = (3, 4)
_TOOL_NAME = "truth-recorder"


def canonical_path(path: str | os.PathLike[str]) -> str:
    """Return the absolute, symlink-free form of `path`, as coverage.py stores file names."""
    return os.path.normcase(os.path.abspath(os.path.realpath(os.fspath(path))))


def default_engine() -> str:
    """The engine "auto" picks: sys.monitoring where it exists, settrace before 3.12."""
    return "sysmon" if hasattr(sys, "monitoring") else "settrace"


class RecorderError(RuntimeError):
    """The recorder cannot start: another tracer holds the hook, or the engine is unavailable."""


class LineRecorder:
    """Record (file, line) for every line executed in files under `source_roots`.

    Use it as ``start()`` ... ``stop()`` or as a context manager; ``lines()`` gives the result.
    """

    def __init__(self, source_roots: Iterable[str | os.PathLike[str]], *, engine: str = "auto") -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
        if engine == "auto":
            engine = default_engine()
        if engine == "sysmon" and not hasattr(sys, "monitoring"):
            raise RecorderError(
                f"engine 'sysmon' needs Python 3.12+, this is {platform.python_version()}; use 'settrace'"
            )
        self.engine: str = engine
        self.source_roots: list[str] = sorted({canonical_path(root) for root in source_roots})
        if not self.source_roots:
            raise ValueError("LineRecorder needs at least one source root")
        self._prefixes = tuple(root.rstrip(os.sep) + os.sep for root in self.source_roots)
        # Raw co_filename -> the line set of its canonical file, or None when it is not ours.
        # Filled lazily from any thread; dict reads and writes are atomic under the GIL.
        self._by_code_file: dict[str, set[int] | None] = {}
        # Canonical file name -> line set: what lines() reports.
        self._files: dict[str, set[int]] = {}
        self._started = False
        self._stopped = False
        self._tool_id: int | None = None
        # Modules under the roots that were imported before start(): their module-level lines ran
        # unseen. Coverage warns about the same thing ("previously imported, but not measured").
        self.imported_before_start: list[str] = []
        # The settrace engine's local tracers, one per file, built once.
        self._local_tracers: dict[str, Any] = {}

    # -- the public surface -------------------------------------------------------------------

    def start(self) -> None:
        """Start recording in every thread (see the module docstring for the 3.11 caveat)."""
        if self._started:
            raise RecorderError("this LineRecorder was already started; make a new one")
        self.imported_before_start = self._modules_already_imported()
        if self.engine == "sysmon":
            self._start_sysmon()
        else:
            self._start_settrace()
        self._started = True

    def stop(self) -> None:
        """Stop recording. Lines recorded so far stay available through lines()."""
        if not self._started or self._stopped:
            return
        self._stopped = True
        if self.engine == "sysmon":
            self._stop_sysmon()
        else:
            self._stop_settrace()

    def __enter__(self) -> LineRecorder:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def lines(self) -> dict[str, set[int]]:
        """The executed lines so far, keyed by canonical absolute file name."""
        return {name: set(lines) for name, lines in list(self._files.items()) if lines}

    def record(self) -> TruthRecord:
        """The recording so far as a TruthRecord, ready to save or merge."""
        return TruthRecord(
            lines=self.lines(),
            source_roots=list(self.source_roots),
            engines=[self.engine],
            python=platform.python_version(),
            imported_before_start=list(self.imported_before_start),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the recording so far to `path` as JSON (see TruthRecord.to_json)."""
        self.record().save(path)

    # -- deciding which files are ours ---------------------------------------------------------

    def _file_lines(self, co_filename: str) -> set[int] | None:
        """Return the line set to record `co_filename`'s lines into, or None if it is not ours."""
        try:
            return self._by_code_file[co_filename]
        except KeyError:
            pass
        target: set[int] | None = None
        if not co_filename.startswith("<"):
            name = canonical_path(co_filename)
            if name.startswith(self._prefixes):
                target = self._files.setdefault(name, set())
        self._by_code_file[co_filename] = target
        return target

    def _modules_already_imported(self) -> list[str]:
        """Names of modules under the roots that are already in sys.modules."""
        found = []
        for name, module in list(sys.modules.items()):
            filename = getattr(module, "__file__", None)
            if isinstance(filename, str) and canonical_path(filename).startswith(self._prefixes):
                found.append(name)
        return sorted(found)

    # -- sys.monitoring ------------------------------------------------------------------------

    def _start_sysmon(self) -> None:
        monitoring = sys.monitoring
        for tool_id in _TOOL_IDS:
            if monitoring.get_tool(tool_id) is None:
                break
        else:
            held = {tool_id: monitoring.get_tool(tool_id) for tool_id in _TOOL_IDS}
            raise RecorderError(f"no free sys.monitoring tool id: {held} are all in use")
        monitoring.use_tool_id(tool_id, _TOOL_NAME)
        self._tool_id = tool_id
        monitoring.register_callback(tool_id, monitoring.events.LINE, self._sysmon_line)
        monitoring.set_events(tool_id, monitoring.events.LINE)
        # A location DISABLEd by an earlier recorder on this tool id stays disabled (3.12 keeps
        # that state across free_tool_id); restart_events() makes every location report again.
        monitoring.restart_events()

    def _sysmon_line(self, code: CodeType, line_number: int) -> Any:
        lines = self._file_lines(code.co_filename)
        if lines is not None:
            lines.add(line_number)
        # One report per location is all we need; files outside the roots need none.
        return sys.monitoring.DISABLE

    def _stop_sysmon(self) -> None:
        monitoring = sys.monitoring
        tool_id = self._tool_id
        assert tool_id is not None
        monitoring.set_events(tool_id, 0)
        monitoring.register_callback(tool_id, monitoring.events.LINE, None)
        monitoring.free_tool_id(tool_id)
        self._tool_id = None

    # -- sys.settrace --------------------------------------------------------------------------

    def _start_settrace(self) -> None:
        current = sys.gettrace()
        if current is not None:
            raise RecorderError(
                f"a trace function is already installed ({current!r}), probably coverage.py: "
                "the settrace engine would displace it; record the truth in a run without coverage"
            )
        if threading.gettrace() is not None:
            raise RecorderError(
                f"threading.settrace already holds {threading.gettrace()!r}; "
                "record the truth in a run without other tracers"
            )
        if hasattr(threading, "settrace_all_threads"):
            threading.settrace_all_threads(self._global_trace)
        else:
            threading.settrace(self._global_trace)
            sys.settrace(self._global_trace)

    def _global_trace(self, frame: FrameType, event: str, arg: object) -> Any:
        # Called on "call" for every new frame, and again each time a generator or coroutine
        # resumes. Frames outside the roots get no local tracer, so they cost no line events.
        if self._stopped:
            sys.settrace(None)
            return None
        lines = self._file_lines(frame.f_code.co_filename)
        if lines is None:
            return None
        return self._local_tracer(frame.f_code.co_filename, lines)

    def _local_tracer(self, co_filename: str, lines: set[int]) -> Any:
        tracer = self._local_tracers.get(co_filename)
        if tracer is None:
            recorder = self

            def tracer(frame: FrameType, event: str, arg: object) -> Any:
                if event == "line":
                    if recorder._stopped:
                        return None
                    lines.add(frame.f_lineno)
                return tracer

            self._local_tracers[co_filename] = tracer
        return tracer

    def _stop_settrace(self) -> None:
        if hasattr(threading, "settrace_all_threads"):
            threading.settrace_all_threads(None)
        else:
            threading.settrace(None)
            sys.settrace(None)
        # Other threads drop their tracer at their next call event (see _global_trace).


@dataclass
class TruthRecord:
    """One recording: the executed lines and what is needed to read them honestly."""

    lines: dict[str, set[int]]
    source_roots: list[str]
    engines: list[str]
    python: str
    imported_before_start: list[str] = field(default_factory=list)
    # Notes for the reader, e.g. an xdist worker whose part was missing at merge time.
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "python": self.python,
            "engines": sorted(set(self.engines)),
            "source_roots": sorted(set(self.source_roots)),
            "imported_before_start": sorted(set(self.imported_before_start)),
            "problems": list(self.problems),
            "lines": {name: sorted(lines) for name, lines in sorted(self.lines.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TruthRecord:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a truth record: format is {data.get('format')!r}, expected {FORMAT!r}")
        return cls(
            lines={name: set(lines) for name, lines in data["lines"].items()},
            source_roots=list(data["source_roots"]),
            engines=list(data["engines"]),
            python=data["python"],
            imported_before_start=list(data.get("imported_before_start", [])),
            problems=list(data.get("problems", [])),
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the record as JSON, atomically (a reader never sees half a file)."""
        path = os.fspath(path)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(self.to_json(), out, indent=1)
            out.write("\n")
        os.replace(tmp, path)


def load(path: str | os.PathLike[str]) -> TruthRecord:
    """Read a record written by LineRecorder.save or merge_files."""
    with open(path, encoding="utf-8") as src:
        return TruthRecord.from_json(json.load(src))


def merge(records: Iterable[TruthRecord]) -> TruthRecord:
    """Union several records (an xdist controller and its workers) into one."""
    merged = TruthRecord(lines={}, source_roots=[], engines=[], python="")
    pythons = set()
    for record in records:
        for name, lines in record.lines.items():
            merged.lines.setdefault(name, set()).update(lines)
        merged.source_roots.extend(record.source_roots)
        merged.engines.extend(record.engines)
        merged.imported_before_start.extend(record.imported_before_start)
        merged.problems.extend(record.problems)
        pythons.add(record.python)
    merged.python = ",".join(sorted(pythons))
    merged.source_roots = sorted(set(merged.source_roots))
    merged.engines = sorted(set(merged.engines))
    merged.imported_before_start = sorted(set(merged.imported_before_start))
    return merged


def merge_files(paths: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str]) -> TruthRecord:
    """Union the records saved at `paths` and write the result to `out`."""
    merged = merge(load(path) for path in paths)
    merged.save(out)
    return merged
