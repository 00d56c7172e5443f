"""slipcover's measurement as a coverage.py data file, so coverage's own reports run on top of it.

slipcover (https://github.com/plasma-umass/slipcover) puts a probe into the bytecode of every line
(3.11) or asks sys.monitoring for LINE events per code object (3.12+). A probe fires in whichever
thread or greenlet runs the line, so there is no per-thread stack to go stale under SQLAlchemy's
greenlet switches or in the uvicorn server thread, and it costs a few percent where coverage's C
tracer with ``concurrency = thread,greenlet`` doubles the wall time. It writes JSON with its own
reports. We turn that JSON into a ``coverage.CoverageData`` file through coverage's public data API,
so the term-missing, HTML, JSON and XML reports, ``fail_under`` and diff-cover all come from
coverage.py itself, with the project's .coveragerc (source, omit, exclusions, precision), exactly
as after a pytest-cov run.

Line mode: ``add_lines({file: executed lines})``.

Branch mode: arcs, ``add_arcs``. We have no record of which line followed which, and need none:

* every executed line L is the arc ``(L, L)``. That is coverage's own way of saying "L ran" in arc
  data (its sys.monitoring core records lines so on 3.14): ``CoverageData.lines()`` is the set of
  positive arc ends, so it is exactly the executed lines, and the analysis turns a self-arc into
  L's only exit when L has one, and ignores it on a line with several, where it could only mislead
  the branch figures;
* every branch slipcover saw taken becomes coverage's arc for that branch. slipcover marks a branch
  by its source line and its destination: the first line of the body, of the ``else``, the next
  statement, or 0 for leaving the function. coverage's parser names the same exits a little
  differently (leaving a ``with`` body, the loop header an inner loop falls back to, ``-N`` for
  leaving the function that starts on line N), so we map each slipcover destination onto the
  possible arcs coverage's parser lists for that line (``FileReporter.arcs``): same line first,
  then the function exit, then the one destination left on each side. What cannot be mapped is
  reported in ``Conversion.problems``, never guessed.

Files under ``[run] source`` that never ran are touched, as coverage's ``_post_save_work`` does,
so they are reported at 0%; ``[run] omit`` is applied as coverage applies it.

We run slipcover with its own exclusion patterns off (``run_slipcover``): it would otherwise drop
``# pragma: no cover`` regions from the data by its own reading of them, and the exclusions are
the rc file's to decide, at report time, as for any coverage data.

    python -m test_scripts.slipcover_data run [--branch] --source DIRS [--omit PATS] --out F -m pytest ...
    python -m test_scripts.slipcover_data convert SLIPCOVER_JSON DATA_FILE --rc RCFILE [--base-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Arc = tuple[int, int]
# slipcover's destination for "leaves the function (or the module)".
SLIPCOVER_EXIT = 0
# Set for slipcover's xdist workers: present and empty means "no exclusion patterns"
# (slipcover.pytest_plugin reads it; its __main__ only sets it when a pyproject.toml asks).
WORKER_EXCLUDE_VARIABLE = "SLIPCOVER_EXCLUDE_LINES"


@dataclass
class Conversion:
    """What a conversion wrote, and what it could not map (expected empty)."""

    branch: bool
    files: int = 0
    executed_lines: int = 0
    branch_arcs: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "files": self.files,
            "executed_lines": self.executed_lines,
            "branch_arcs": self.branch_arcs,
            "problems": list(self.problems),
        }


# --- mapping branches (pure) -------------------------------------------------------------------


def map_destinations(line: int, slipcover: Iterable[int], coverage: Iterable[int]) -> tuple[dict[int, int], list[str]]:
    """{slipcover destination: coverage destination} for the branches of one line, and what is left.

    `slipcover` holds every destination slipcover instrumented on `line` (taken or not),
    translated to first lines of statements; `coverage` the destinations of coverage's possible
    arcs from it. Same line first, then slipcover's function exit (0) onto coverage's one negative
    destination, then the single destination left on each side onto each other (a ``with`` body's
    exit, which coverage sends through the ``with`` to what follows it). Anything else is left
    unmapped and described.
    """
    ours, theirs = sorted(set(slipcover)), set(coverage)
    mapped = {dest: dest for dest in ours if dest != SLIPCOVER_EXIT and dest in theirs}
    left = theirs - set(mapped.values())
    exits = sorted(dest for dest in left if dest < 0)
    if SLIPCOVER_EXIT in ours and len(exits) == 1:
        mapped[SLIPCOVER_EXIT] = exits[0]
        left.discard(exits[0])
    unmapped = [dest for dest in ours if dest not in mapped]
    if len(unmapped) == 1 and len(left) == 1:
        mapped[unmapped[0]] = left.pop()
        unmapped = []
    problems = []
    if unmapped:
        shown = ", ".join("exit" if dest == SLIPCOVER_EXIT else str(dest) for dest in unmapped)
        problems.append(
            f"line {line}: slipcover's branch to {shown} matches none of coverage's destinations "
            f"{sorted(theirs)}"
        )
    return mapped, problems


def branch_arcs(
    *,
    executed_lines: Iterable[int],
    taken: Iterable[Arc],
    instrumented: Iterable[Arc],
    possible: Iterable[Arc],
    first_line: Any = lambda line: line,
) -> tuple[set[Arc], list[str]]:
    """coverage's arcs for one file: (L, L) for every executed line, plus each taken branch's arc.

    `taken` and `instrumented` are slipcover's executed branches and all its branches (executed
    and missing); `possible` is coverage's possible arcs for the file (``FileReporter.arcs()``, less
    arcs from or to excluded lines); `first_line` maps a line to the first line of its statement.
    Returns the arcs and the problems (a taken branch we could not name in coverage's terms, a
    destination that never ran, a branch line coverage knows and slipcover did not instrument).
    """
    executed = {first_line(line) for line in executed_lines}
    arcs: set[Arc] = {(line, line) for line in executed_lines}
    problems: list[str] = []

    def translated(dest: int) -> int:
        return dest if dest == SLIPCOVER_EXIT else first_line(dest)

    ours: dict[int, set[int]] = defaultdict(set)
    for source, dest in instrumented:
        ours[first_line(source)].add(translated(dest))
    theirs: dict[int, set[int]] = defaultdict(set)
    for source, dest in possible:
        theirs[source].add(dest)
    branch_lines = {line for line, dests in theirs.items() if len(dests) > 1}

    mappings = {}
    for line in sorted(ours):
        if line in branch_lines:
            mappings[line], unmapped = map_destinations(line, ours[line], theirs[line])
            problems += unmapped if line in executed else []
    for line in sorted(branch_lines - set(ours)):
        if line in executed:
            problems.append(
                f"line {line}: coverage sees a branch to {sorted(theirs[line])} that slipcover does not measure"
            )

    for source, dest in sorted(set(taken)):
        line = first_line(source)
        if line not in branch_lines:
            continue  # one way on for coverage (`while True:`, an excluded exit): (L, L) says enough
        target = mappings.get(line, {}).get(translated(dest))
        if target is None:
            continue  # described above
        if target > 0 and target not in executed:
            problems.append(f"line {line}: slipcover took the branch to {target}, which never ran")
            continue
        arcs.add((line, target))
    return arcs, problems


# --- files -------------------------------------------------------------------------------------


def canonical(path: str, base_dir: str) -> str:
    """An absolute, symlink-free file name, as coverage stores it; `path` may be relative to `base_dir`."""
    return os.path.normcase(os.path.abspath(os.path.realpath(os.path.join(base_dir, path))))


def measured_files(slipcover: Mapping[str, Any], cov: Any, base_dir: str) -> dict[str, dict[str, Any]]:
    """slipcover's files that coverage would have measured, plus the unexecuted ones it reports at 0%.

    `cov` is a ``coverage.Coverage`` built from the rc file. Names are canonical; files slipcover
    never saw run map to an empty entry.
    """
    from coverage.files import GlobMatcher, find_python_files, prep_patterns

    config = cov.config
    files: dict[str, dict[str, Any]] = {}
    for name, entry in slipcover.get("files", {}).items():
        files[canonical(name, base_dir)] = entry
    for root in config.source or ():
        directory = os.path.join(base_dir, root)
        if os.path.isdir(directory):
            for name in find_python_files(directory, config.include_namespace_packages):
                files.setdefault(canonical(name, base_dir), {})
    if config.run_omit:
        cwd = os.getcwd()
        try:
            os.chdir(base_dir)  # coverage makes relative omit patterns absolute from the current directory
            omitted = GlobMatcher(prep_patterns(config.run_omit), "run_omit")
        finally:
            os.chdir(cwd)
        files = {name: entry for name, entry in files.items() if not omitted.match(name)}
    return files


def convert(slipcover: Mapping[str, Any], data: Any, *, config_file: str, base_dir: str) -> Conversion:
    """Write slipcover's result (its JSON, loaded) into `data`, a ``coverage.CoverageData``.

    `config_file` is the rc file the reports will use (exclusions shape coverage's possible arcs;
    ``source`` and ``omit`` decide the files); `base_dir` is the directory slipcover ran in, which
    its relative file names are relative to.
    """
    import coverage
    from coverage.python import PythonFileReporter

    branch = bool(slipcover.get("meta", {}).get("branch_coverage"))
    result = Conversion(branch=branch)
    cov = coverage.Coverage(data_file=None, config_file=config_file)
    files = measured_files(slipcover, cov, base_dir)
    lines: dict[str, list[int]] = {}
    arcs: dict[str, set[Arc]] = {}
    for name, entry in sorted(files.items()):
        executed = list(entry.get("executed_lines", ()))
        if not executed:
            continue
        result.executed_lines += len(executed)
        if not branch:
            lines[name] = executed
            continue
        reporter = PythonFileReporter(name, coverage=cov)
        excluded = reporter.excluded_lines()
        possible = [(a, b) for a, b in reporter.arcs() if a not in excluded and b not in excluded]
        first_line = reporter.parser.first_line
        taken = [tuple(arc) for arc in entry.get("executed_branches", ())]
        arcs[name], problems = branch_arcs(
            executed_lines=executed,
            taken=taken,
            instrumented=[*taken, *(tuple(arc) for arc in entry.get("missing_branches", ()))],
            possible=possible,
            first_line=first_line,
        )
        result.branch_arcs += sum(1 for a, b in arcs[name] if a != b)
        shown = os.path.relpath(name, base_dir)
        result.problems += [f"{shown}: {problem}" for problem in problems]
    if branch:
        data.add_arcs(arcs)
    else:
        data.add_lines(lines)
    data.touch_files(sorted(files))
    result.files = len(files)
    return result


def write_data_file(slipcover_json: str, data_file: str, *, config_file: str, base_dir: str) -> Conversion:
    """Read slipcover's JSON and write a fresh coverage data file from it."""
    import coverage

    with open(slipcover_json, encoding="utf-8") as src:
        slipcover = json.load(src)
    data = coverage.CoverageData(basename=data_file)
    data.erase()
    try:
        return convert(slipcover, data, config_file=config_file, base_dir=base_dir)
    finally:
        data.close()


# --- running slipcover -------------------------------------------------------------------------

# Two warnings that the project's `filterwarnings = error` would make fatal, and that say nothing
# about what is measured: slipcover imports itself before pytest starts, so pytest cannot rewrite
# its plugin's asserts; and slipcover's xdist workers say at plugin import that they cannot
# instrument the branches of rewritten test files (test files are never under our --source).
# Passed on pytest's command line, which xdist hands to its workers.
PYTEST_ARGS = (
    "-W",
    "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning",
    "-W",
    "ignore:Unable to activate pytest branch coverage:RuntimeWarning",
)


def run_command(
    python: str,
    *,
    branch: bool,
    sources: Sequence[os.PathLike[str] | str],
    omit: Sequence[str],
    out: os.PathLike[str] | str,
) -> list[str]:
    """slipcover's command line up to its `-m`: append ``-m pytest ...`` and PYTEST_ARGS."""
    command = [python, "-m", "test_scripts.slipcover_data", "run"]
    if branch:
        command.append("--branch")
    command += ["--source", ",".join(str(source) for source in sources)]
    if omit:
        command += ["--omit", ",".join(omit)]
    return command + ["--json", "--out", str(out)]


def run_slipcover(argv: Sequence[str]) -> int:
    """slipcover's own command line (``python -m slipcover ARGS``), with its exclusion patterns off.

    slipcover reads exclusion patterns from a pyproject.toml only; without one it applies its
    defaults (``# pragma: no cover``, ``if TYPE_CHECKING:``) and drops those lines from its data.
    The rc file decides exclusions at report time, so we record everything: an empty default
    list here, and the empty variable its xdist workers read.
    """
    import slipcover.slipcover as engine
    from slipcover import __main__ as slipcover_main

    # slipcover would also instrument the branches of test files that pytest rewrites, when they
    # are under --source; ours never are, and its warning that it cannot on this pytest is noise.
    warnings.filterwarnings("ignore", "Unable to activate pytest branch coverage", RuntimeWarning)
    engine.DEFAULT_EXCLUDE = []
    os.environ[WORKER_EXCLUDE_VARIABLE] = ""
    sys.argv = ["slipcover", *argv]
    return slipcover_main.main()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:
        return run_slipcover(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m test_scripts.slipcover_data")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="python -m slipcover ARGS, with slipcover's own exclusions off")
    to_data = commands.add_parser("convert", help="slipcover's JSON to a coverage data file")
    to_data.add_argument("slipcover_json")
    to_data.add_argument("data_file")
    to_data.add_argument("--rc", required=True, help="the coverage rc file the reports will use")
    to_data.add_argument("--base-dir", default=".", help="where slipcover ran (its file names are relative to it)")
    to_data.add_argument("--summary", help="write what was converted, as JSON, here")
    args = parser.parse_args(argv)
    result = write_data_file(
        args.slipcover_json, args.data_file, config_file=args.rc, base_dir=os.path.abspath(args.base_dir)
    )
    if args.summary:
        with open(args.summary, "w", encoding="utf-8") as dst:
            json.dump(result.as_dict(), dst)
    for problem in result.problems:
        print(f"slipcover_data: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
