"""From the runs' records to compare's result: statements, executed lines, lost and phantom lines.

Two halves:

* ``measure`` reads the truth record and every configuration's data file and puts all of them
  through one analysis, ``test_scripts.truth.mapping.executed_statements`` (coverage's own parser
  and reporting loop) with the same rc file: the project's, with ``source`` pointing at what was
  measured. A configuration's data is read with its own rc file; its lines (a branch
  configuration's data has arcs; ``CoverageData.lines`` gives their lines) are then mapped exactly
  like the truth's, so the two sides differ only where the recordings do. It must run on the
  interpreter that made the recordings (coverage compiles the source to find statements, and line
  tables differ between versions) and in the project's directory (relative ``omit`` patterns are
  taken from the current directory), so compare runs it as
  ``python -m test_scripts.compare.analyze JOB.json OUT.json`` with that Python, there.
* ``build_result`` (pure) compares the sides: per file and in total, lines lost (the truth ran them,
  the configuration reports them missed) and phantom lines (reported covered, never ran), line
  percentages, wall-time ratios, and the verdict. The truth records no arcs, so a branch
  configuration's branch figures (per file: branches, partial branches, the missing branch arcs,
  as coverage's reports count them) are held against ``thread+greenlet/branch``'s, the C tracer's
  exact configuration, when both were measured: ``branches_match``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from typing import Any

# files as the result holds them: {relative path: {"statements": [...], "executed": [...]}}
Files = Mapping[str, Mapping[str, Sequence[int]]]


def percent_of(part: int, whole: int) -> float:
    """A file with no statements is fully covered, as coverage reports it."""
    return 100.0 * part / whole if whole else 100.0


def display_percent(value: float | None, precision: int = 1) -> str:
    """Like coverage's reports: never round a lossy figure up to 100 or a nonzero one down to 0."""
    if value is None:
        return "-"
    near = 10.0**-precision
    if 0 < value < near:
        value = near
    elif 100 - near < value < 100:
        value = 100 - near
    return f"{value:.{precision}f}"


# --- measuring (coverage.py, on the interpreter that recorded) --------------------------------


def relative_to(path: str, project_dir: str) -> str:
    """`path` relative to the project (with / separators), or as it is when it lies outside."""
    root = os.path.realpath(project_dir)
    real = os.path.realpath(path)
    if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
        return os.path.relpath(real, root).replace(os.sep, "/")
    return real


def _relative_files(
    analysis: Mapping[str, Mapping[str, list[int]]], project_dir: str
) -> dict[str, dict[str, list[int]]]:
    return {
        relative_to(name, project_dir): {"statements": list(entry["statements"]), "executed": list(entry["executed"])}
        for name, entry in sorted(analysis.items())
    }


def measure_config(
    data_file: str, rcfile: str, *, analysis_rc: str, sources: Sequence[str], project_dir: str
) -> dict[str, Any]:
    """A configuration's statements and executed lines per file, plus coverage's own totals."""
    import coverage
    from coverage.report_core import get_analysis_to_report
    from coverage.results import Numbers

    from test_scripts.truth.mapping import executed_statements

    cov = coverage.Coverage(data_file=data_file, config_file=rcfile)
    cov.load()
    data = cov.get_data()
    raw = {filename: set(data.lines(filename) or ()) for filename in data.measured_files()}
    has_arcs = data.has_arcs()
    files = executed_statements(raw, config_file=analysis_rc, source_roots=sources)

    # What coverage itself reports for this rc and data: its TOTAL (with branches when it
    # measured them), and its own executed lines, which must agree with ours.
    total = Numbers(precision=cov.config.precision)
    own: dict[str, list[int]] = {}
    branches: dict[str, dict[str, Any]] = {}
    for _reporter, analysis in get_analysis_to_report(cov, None):
        total += analysis.numbers
        path = relative_to(analysis.filename, project_dir)
        own[path] = sorted(analysis.executed)
        if has_arcs:
            branches[path] = {
                "branches": analysis.numbers.n_branches,
                "partial": analysis.numbers.n_partial_branches,
                "missing": sorted([a, b] for a, dests in analysis.missing_branch_arcs().items() for b in dests),
            }
    data.close(force=True)
    ours = _relative_files(files, project_dir)
    disagree = sorted(
        path for path in set(own) | set(ours) if own.get(path, []) != list(ours.get(path, {}).get("executed", []))
    )
    return {
        "files": ours,
        "has_arcs": has_arcs,
        "reported_percent": total.pc_covered,
        "branch_percent": percent_of(total.n_branches - total.n_missing_branches, total.n_branches)
        if has_arcs and total.n_branches
        else None,
        # Files where coverage's own report and the shared mapping disagree on executed lines:
        # expected empty; if not, the comparison is suspect and the output says so.
        "analysis_disagrees": disagree,
        "branches": branches if has_arcs else None,
    }


def measure(job: Mapping[str, Any]) -> dict[str, Any]:
    """Analyse the truth and every configuration of `job` (see ``run.analysis_job``)."""
    import coverage

    from test_scripts.truth.mapping import executed_statements
    from test_scripts.truth.recorder import load

    record = load(job["truth"])
    truth = executed_statements(record.lines, config_file=job["analysis_rc"], source_roots=job["sources"])
    return {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "coverage_version": coverage.__version__,
        "truth": {
            "files": _relative_files(truth, job["project_dir"]),
            "engines": record.engines,
            "imported_before_start": record.imported_before_start,
            "problems": record.problems,
        },
        "configs": {
            config["name"]: measure_config(
                config["data_file"],
                config["rc"],
                analysis_rc=job["analysis_rc"],
                sources=job["sources"],
                project_dir=job["project_dir"],
            )
            for config in job["configs"]
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    job_file, out_file = argv if argv is not None else sys.argv[1:]
    with open(job_file, encoding="utf-8") as src:
        job = json.load(src)
    result = measure(job)
    with open(out_file, "w", encoding="utf-8") as dst:
        json.dump(result, dst)
    return 0


# --- comparing (pure) -------------------------------------------------------------------------


def _executed(files: Files, path: str) -> set[int]:
    entry = files.get(path)
    return set(entry["executed"]) if entry else set()


def _statements(files: Files, path: str) -> set[int]:
    entry = files.get(path)
    return set(entry["statements"]) if entry else set()


def totals(files: Files) -> tuple[int, int]:
    """(statements, executed statements) over all files."""
    return sum(len(e["statements"]) for e in files.values()), sum(len(e["executed"]) for e in files.values())


def diff_lines(truth: Files, measured: Files) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """({path: lost lines}, {path: phantom lines}), files without any left out."""
    lost: dict[str, list[int]] = {}
    phantom: dict[str, list[int]] = {}
    for path in sorted(set(truth) | set(measured)):
        ran, reported = _executed(truth, path), _executed(measured, path)
        if ran - reported:
            lost[path] = sorted(ran - reported)
        if reported - ran:
            phantom[path] = sorted(reported - ran)
    return lost, phantom


def compare_config(truth: Files, measured: Files) -> dict[str, Any]:
    """The figures of one configuration against the truth."""
    lost_lines, phantom_lines = diff_lines(truth, measured)
    statements, executed = totals(measured)
    per_file = {}
    for path in sorted(set(truth) | set(measured)):
        count = len(_statements(measured, path) or _statements(truth, path))
        ran = len(_executed(measured, path))
        per_file[path] = {"statements": count, "executed": ran, "percent": percent_of(ran, count)}
    return {
        "percent": percent_of(executed, statements),
        "statements": statements,
        "executed": executed,
        "lost": sum(len(lines) for lines in lost_lines.values()),
        "phantom": sum(len(lines) for lines in phantom_lines.values()),
        "lost_lines": lost_lines,
        "phantom_lines": phantom_lines,
        "files": per_file,
    }


BRANCH_REFERENCE = "thread+greenlet/branch"


def branch_differences(
    measured: Mapping[str, Mapping[str, Any]] | None, reference: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, dict[str, Any]] | None:
    """{file: {"branches": [ours, reference], ...}} where the branch figures differ; None if either is missing."""
    if measured is None or reference is None:
        return None
    differences: dict[str, dict[str, Any]] = {}
    for path in sorted(set(measured) | set(reference)):
        ours, theirs = measured.get(path, {}), reference.get(path, {})
        differing = {key: [ours.get(key), theirs.get(key)] for key in ("branches", "partial", "missing")
                     if ours.get(key) != theirs.get(key)}  # fmt: skip
        if differing:
            differences[path] = differing
    return differences


def is_exact(config: Mapping[str, Any]) -> bool:
    """No line lost, none invented, and no branch figure unlike the C tracer's (where compared)."""
    return config["lost"] == 0 and config["phantom"] == 0 and config.get("branches_match") is not False


def verdict(configs: Sequence[Mapping[str, Any]], project: str = "project", runner: str = "runner") -> dict[str, Any]:
    """Which configurations are exact, the fastest exact one, and whether `project` and `runner` are.

    "recommended" is the fastest exact configuration other than `project` and `runner`: those are
    the things being judged, not candidates. `project_exact` and `runner_exact` are None when not
    measured.
    """
    measured = [c for c in configs if not c.get("skipped")]
    exact = [c for c in measured if is_exact(c)]
    candidates = [c for c in exact if c["name"] not in (project, runner) and c.get("wall_s") is not None]
    fastest = min(candidates, key=lambda c: c["wall_s"], default=None)
    by_name = {c["name"]: c for c in measured}
    return {
        "exact": [c["name"] for c in exact],
        "fastest_exact": fastest["name"] if fastest else None,
        "recommended": fastest["name"] if fastest else None,
        "project_exact": is_exact(by_name[project]) if project in by_name else None,
        "runner_exact": is_exact(by_name[runner]) if runner in by_name else None,
    }


def build_result(
    *,
    meta: Mapping[str, Any],
    measured: Mapping[str, Any],
    runs: Mapping[str, Mapping[str, Any]],
    configs: Sequence[Mapping[str, Any]],
    plain_wall_s: float | None,
) -> dict[str, Any]:
    """compare.json's content for one Python.

    `meta`: suite, transport, db, command and the like, copied in. `measured`: ``measure``'s
    output. `runs`: per configuration name, what its run left (wall_s, warnings, core, ...).
    `configs`: [{"name", "skipped"?, ...}] in the order asked; skipped ones stay in the list with
    their reason under "skipped".
    """
    truth_files = measured["truth"]["files"]
    statements, executed = totals(truth_files)
    result: dict[str, Any] = {
        "python": measured["python"],
        "coverage_version": measured["coverage_version"],
        **dict(meta),
        "truth": {
            "percent": percent_of(executed, statements),
            "statements": statements,
            "executed_count": executed,
            "engines": measured["truth"].get("engines", []),
            "imported_before_start": measured["truth"].get("imported_before_start", []),
            "problems": measured["truth"].get("problems", []),
            "files": truth_files,
        },
        "plain_wall_s": plain_wall_s,
        "configs": [],
    }
    for config in configs:
        name = config["name"]
        entry: dict[str, Any] = dict(config)
        if not config.get("skipped"):
            own = measured["configs"][name]
            entry.update(compare_config(truth_files, own["files"]))
            for key in ("reported_percent", "branch_percent", "has_arcs", "analysis_disagrees"):
                entry[key] = own.get(key)
            run = runs.get(name, {})
            entry["wall_s"] = run.get("wall_s")
            entry["ratio"] = (
                round(run["wall_s"] / plain_wall_s, 2) if run.get("wall_s") is not None and plain_wall_s else None
            )
            entry["warnings"] = list(run.get("warnings", []))
            entry["core"] = run.get("core")
            entry["log"] = run.get("log")
            entry["conversion_problems"] = list(run.get("conversion_problems", []))
            entry["branches"] = own.get("branches")
            reference = measured["configs"].get(BRANCH_REFERENCE, {}).get("branches")
            differences = branch_differences(own.get("branches"), reference) if name != BRANCH_REFERENCE else None
            entry["branch_differences"] = differences
            entry["branches_match"] = None if differences is None else not differences
            entry["exact"] = is_exact(entry)
        result["configs"].append(entry)
    result.update(verdict(result["configs"]))
    return result


if __name__ == "__main__":
    raise SystemExit(main())
