"""pytest plugin: time every `coverage.Coverage.combine` of this process, for the xdist section.

    COVREF_BENCH_COMBINE=PATH python -m pytest -p test_scripts.bench.combine_probe -n 2 --cov ...

pytest-cov combines the workers' data in the controller when the session ends; we wrap the method
it calls and append each call's seconds to PATH, one per line. Without the variable, nothing.
"""

from __future__ import annotations

import functools
import os
import time

import coverage

ENV_VAR = "COVREF_BENCH_COMBINE"


def _timed(combine):  # type: ignore[no-untyped-def]
    @functools.wraps(combine)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        begin = time.perf_counter()
        try:
            return combine(*args, **kwargs)
        finally:
            with open(os.environ[ENV_VAR], "a", encoding="utf-8") as out:
                out.write(f"{time.perf_counter() - begin:.6f}\n")

    return wrapper


if os.environ.get(ENV_VAR) and not os.environ.get("PYTEST_XDIST_WORKER"):
    coverage.Coverage.combine = _timed(coverage.Coverage.combine)  # type: ignore[method-assign]
