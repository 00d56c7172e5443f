"""pytest plugin: write down how coverage.py is really measuring this run.

    COVREF_COMPARE_PROBE=PATH python -m pytest -p test_scripts.compare.probe --cov ...

An rc file asks for a core; coverage can decide otherwise (``core = sysmon`` with branch coverage
before 3.14, or with greenlet, falls back to the C tracer with a "no-sysmon" warning, and 3.14
picks sysmon by itself). At the start of the session, when pytest-cov's Coverage object is
running, we record the tracer class it chose and the settings it read, as JSON at PATH.
Without the environment variable the plugin does nothing.
"""

from __future__ import annotations

import json
import os

import pytest

ENV_VAR = "COVREF_COMPARE_PROBE"
CORE_NAMES = {"CTracer": "ctrace", "PyTracer": "pytrace", "SysMonitor": "sysmon"}


def measurement() -> dict:
    """What the running coverage.Coverage (if any) measures with."""
    import coverage

    cov = coverage.Coverage.current()
    if cov is None:
        return {"coverage_running": False}
    core = getattr(cov, "_core", None)  # private, so we read it defensively
    tracer = getattr(getattr(core, "tracer_class", None), "__name__", None)
    return {
        "coverage_running": True,
        "core": CORE_NAMES.get(tracer or "", tracer),
        "concurrency": sorted(cov.config.concurrency),
        "branch": bool(cov.config.branch),
        "config_file": cov.config.config_file,
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    out = os.environ.get(ENV_VAR)
    if not out or hasattr(session.config, "workerinput"):
        return
    with open(out, "w", encoding="utf-8") as dst:
        json.dump(measurement(), dst)
