"""The truth: an independent record of which lines ran, made without coverage.py's tracer.

``recorder`` records raw (file, line) events with sys.monitoring or sys.settrace; ``mapping`` turns
them into coverage.py's statement numbering with coverage's own parser and reporting code;
``plugin`` records a whole pytest session (``-p test_scripts.truth.plugin --truth-out PATH``).
"""

from test_scripts.truth.mapping import executed_statements
from test_scripts.truth.recorder import LineRecorder, RecorderError, TruthRecord, load, merge, merge_files

__all__ = [
    "LineRecorder",
    "RecorderError",
    "TruthRecord",
    "executed_statements",
    "load",
    "merge",
    "merge_files",
]
