"""Turn recorded lines into coverage.py's statement numbering, with coverage.py's own code.

A recording holds raw line numbers, as a tracer sees them: continuation lines of a multi-line call,
the line of a decorator, excluded lines. A coverage report speaks of statements: first lines of
statements, minus exclusions, minus docstrings. To compare the truth with a configuration, both
must be put through the same analysis, so we do not re-implement it. We write the recorded lines
into an in-memory ``CoverageData``, exactly as a perfect tracer would have left them, and ask a
``coverage.Coverage`` built from the project's configuration file to analyse it with
``coverage.report_core.get_analysis_to_report``, the loop every coverage reporter (text, JSON,
XML, HTML) runs. For each file that gives ``Analysis.statements`` (``PythonParser.statements``: the
first lines of statements, less ``exclude_lines``/``exclude_also`` matches and docstrings) and
``Analysis.executed`` (``translate_lines(recorded) & statements``). Only coverage's parser and
reporting code take part; its tracer never runs.

Files that never ran must appear too, at 0%, as they do in a report with ``source=``: like
coverage's ``_post_save_work``, we touch every importable Python file under the source roots
(``coverage.files.find_python_files``, which honours ``include_namespace_packages``) and drop the
ones ``[run] omit`` names. ``[report] include``/``omit`` are then applied by the reporting loop.

Run the mapping on the Python version that made the recording: coverage finds statements by
compiling the source with the running interpreter, and the line tables differ between versions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from test_scripts.truth.recorder import canonical_path


def executed_statements(
    raw: Mapping[str, Iterable[int]],
    *,
    config_file: str | os.PathLike[str] | None,
    source_roots: Iterable[str | os.PathLike[str]] = (),
) -> dict[str, dict[str, list[int]]]:
    """Analyse recorded lines the way coverage.py's report would, had its tracer been perfect.

    `raw` maps file names to executed line numbers (LineRecorder.lines(), or TruthRecord.lines).
    `config_file` is a coverage configuration file (.coveragerc, setup.cfg, tox.ini or
    pyproject.toml); None means coverage's defaults, which still exclude ``# pragma: no cover``.
    `source_roots` are directories whose unexecuted Python files are reported with nothing
    executed. Returns ``{absolute file name: {"statements": [...], "executed": [...]}}``.
    """
    import coverage
    from coverage.exceptions import NoDataError
    from coverage.files import GlobMatcher, find_python_files, prep_patterns
    from coverage.report_core import get_analysis_to_report

    cov = coverage.Coverage(
        data_file=None,  # in memory only: nothing is written next to the project's own data
        config_file=os.fspath(config_file) if config_file is not None else False,
    )
    config = cov.config

    files: dict[str, set[int]] = {}
    for name, lines in raw.items():
        files.setdefault(canonical_path(name), set()).update(lines)
    for root in source_roots:
        for name in find_python_files(os.fspath(root), config.include_namespace_packages):
            files.setdefault(canonical_path(name), set())
    if config.run_omit:
        omitted = GlobMatcher(prep_patterns(config.run_omit), "run_omit")
        files = {name: lines for name, lines in files.items() if not omitted.match(name)}

    data = cov.get_data()
    result: dict[str, dict[str, list[int]]] = {}
    try:
        data.add_lines({name: lines for name, lines in files.items() if lines})
        data.touch_files([name for name, lines in files.items() if not lines])
        for _reporter, analysis in get_analysis_to_report(cov, None):
            result[canonical_path(analysis.filename)] = {
                "statements": sorted(analysis.statements),
                "executed": sorted(analysis.executed),
            }
    except NoDataError:
        return {}
    finally:
        # The in-memory database is an sqlite3 connection; 3.13 warns when one is left to the GC.
        data.close(force=True)
    return result

