"""Run one fixture module under coverage.py's tracer and print what coverage says it missed.

    python -m test_scripts.test_harness.truth_fixtures.measure_with_coverage RCFILE FIXTURE.py

The fixture is loaded fresh after coverage starts, and only that file is measured: everything it
calls elsewhere plays the part of library code. Prints {"missing": [...], "result": ...} as JSON.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Sequence

import coverage


def main(argv: Sequence[str] | None = None) -> int:
    rcfile, fixture = argv if argv is not None else sys.argv[1:]
    cov = coverage.Coverage(data_file=None, config_file=rcfile, include=[fixture])
    cov.start()
    try:
        spec = importlib.util.spec_from_file_location("measured_fixture", fixture)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result = module.run()
    finally:
        cov.stop()
    _name, _statements, _excluded, missing, _text = cov.analysis2(fixture)
    cov.get_data().close(force=True)
    print(json.dumps({"missing": missing, "result": repr(result)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
