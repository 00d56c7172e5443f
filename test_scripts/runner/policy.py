"""The coverage policy commands of ./test_runner.py: check, diff-cover, who-covers, badge.

They read what `./test_runner.py --coverage api all` (the main job) leaves at the project root:
coverage.json (check, badge), coverage.xml (diff-cover) and the combined data file .coverage
(who-covers, which needs the per-test contexts that `--contexts` records).

One figure everywhere: coverage.py's own `percent_covered`, statements and branches together,
(covered statements + covered branches) / (statements + branches). We compute it from the counts
in coverage.json as an exact fraction, so a target or the ratchet floor is met or not without
float noise; figures are shown and stored truncated to RATCHET_DECIMALS decimals (a figure is
never shown above what was measured). The terminal report rounds to `[report] precision`
instead: 202 of 219 is 92.23% here and 92.2% there, and 18999 of 20000 is 94.99% here (under a
95% target) where the report shows 95.0.

Standard library only at module level (commands are prepared on the system python3); coverage,
diff-cover and anybadge are imported inside the functions that run in the venv.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from test_scripts.runner.base import (
    Command,
    ExitCode,
    PROJECT_DIR,
    ProjectError,
    RunnerError,
    UsageError,
    refuse_pytest_args,
    refuse_test_options,
    relative,
    say,
)

COVERAGE_JSON = PROJECT_DIR / "coverage.json"
COVERAGE_XML = PROJECT_DIR / "coverage.xml"
COVERAGE_DATA = PROJECT_DIR / ".coverage"
COVERAGERC = PROJECT_DIR / ".coveragerc"
PYPROJECT = PROJECT_DIR / "pyproject.toml"
RATCHET_FILE = PROJECT_DIR / ".coverage-ratchet.json"
REPORTS_DIR = PROJECT_DIR / "reports"
BADGE_FILE = REPORTS_DIR / "coverage-badge.svg"
TARGETS_SECTION = "[tool.covref.targets]"

# The run whose figures the targets and the ratchet describe; the messages tell people to run it.
MAIN_JOB = "./test_runner.py --coverage api all"
CONTEXTS_JOB = "./test_runner.py --contexts api all"
RATCHET_DECIMALS = 2
DEFAULT_COMPARE_BRANCHES = ("origin/main", "main")
# anybadge's thresholds are upper bounds: a value under 60 is red, under 75 orange, under 90
# yellow, and anything from 90 up (past the last bound too) green.
BADGE_THRESHOLDS: Dict[float, str] = {60: "red", 75: "orange", 90: "yellow", 100: "green"}

Out = Callable[[str], None]


class NoCoverageData(RunnerError):
    """The data a command reads is missing, or lacks what it needs (branches, contexts)."""

    exit_code = ExitCode.NO_COVERAGE_DATA


def _shown(path: Path, project_dir: Path = PROJECT_DIR) -> str:
    """A path as the person would type it from the project's root (tests pass their own root)."""
    try:
        return path.relative_to(project_dir).as_posix()
    except ValueError:
        return relative(path)


def _reject_test_options(args: argparse.Namespace, command: str) -> None:
    """`./test_runner.py --coverage check` is a mistake worth one line, as for serve and compare."""
    refuse_test_options(args, command)
    refuse_pytest_args(args, command)


# --- figures -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """Covered and coverable units (statements + branches) of a file or of the whole run."""

    covered: int
    total: int

    @property
    def percent(self) -> Fraction:
        """Exactly coverage.py's percent_covered; nothing to cover counts as 100%, as there."""
        return Fraction(100) if self.total == 0 else Fraction(100 * self.covered, self.total)

    @property
    def shown(self) -> Decimal:
        return truncate(self.percent)


def truncate(value: Fraction, decimals: int = RATCHET_DECIMALS) -> Decimal:
    """`value` cut (not rounded) to `decimals` places: 91.7496... is 91.74, never 91.75."""
    return Decimal(math.floor(value * 10**decimals)).scaleb(-decimals)


def number(value: Decimal) -> str:
    """A figure for people: 95 rather than 95.00, 91.7 rather than 91.70."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def show(value: Decimal) -> str:
    return number(value) + "%"


@dataclass(frozen=True)
class Measurement:
    """What coverage.json says: a figure per measured file (project-relative path) and the total."""

    files: Dict[str, Figure]
    total: Figure
    timestamp: str


def _figure(summary: Mapping[str, int]) -> Figure:
    return Figure(
        covered=summary["covered_lines"] + summary.get("covered_branches", 0),
        total=summary["num_statements"] + summary.get("num_branches", 0),
    )


def read_coverage_json(path: Path, project_dir: Path = PROJECT_DIR) -> Measurement:
    """The figures of coverage.py's JSON report; NoCoverageData when there is none we can use."""
    if not path.is_file():
        raise NoCoverageData(f"no coverage data: {_shown(path, project_dir)} does not exist; run {MAIN_JOB} first")
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        meta, files, totals = report["meta"], report["files"], report["totals"]
        if not meta.get("branch_coverage"):
            raise NoCoverageData(
                f"{_shown(path, project_dir)} was written without branch coverage, and the targets count branches; "
                f"run {MAIN_JOB} (.coveragerc sets branch = True)"
            )
        measured = {_display_path(name, project_dir): _figure(entry["summary"]) for name, entry in files.items()}
        return Measurement(files=measured, total=_figure(totals), timestamp=str(meta.get("timestamp", "?")))
    except (ValueError, KeyError, TypeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0]
        raise NoCoverageData(
            f"{_shown(path, project_dir)} is not a coverage.py JSON report ({detail}); run {MAIN_JOB} to write it again"
        ) from None


def _display_path(name: str, project_dir: Path) -> str:
    """coverage.json names files relative to the working directory; keep them project-relative."""
    path = Path(name)
    if path.is_absolute():
        try:
            return path.relative_to(project_dir).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


# --- targets -----------------------------------------------------------------------------------


class Target(NamedTuple):
    pattern: str
    percent: Decimal


def _percent_value(value: object, where: str) -> Decimal:
    """A target or floor: a number from 0 to 100 with at most RATCHET_DECIMALS decimals."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ProjectError(f"{where}: expected a percentage such as 95 or 92.5, got {value!r}")
    number = Decimal(value)
    if not (0 <= number <= 100) or -number.as_tuple().exponent > RATCHET_DECIMALS:  # type: ignore[operator]
        raise ProjectError(f"{where}: {value} must be from 0 to 100 with at most {RATCHET_DECIMALS} decimals")
    return number


def read_targets(pyproject: Path, project_dir: Path = PROJECT_DIR) -> List[Target]:
    """[tool.covref.targets] in the order written: the first pattern matching a file decides it."""
    name = _shown(pyproject, project_dir)
    where = f"{name} {TARGETS_SECTION}"
    if not pyproject.is_file():
        raise ProjectError(f"check reads the per-module targets from {where}, and there is no {name}")
    try:
        with pyproject.open("rb") as stream:
            config = tomllib.load(stream, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{name} is not valid TOML: {exc}") from None
    table = config.get("tool", {}).get("covref", {}).get("targets")
    if not isinstance(table, dict) or not table:
        raise ProjectError(f"{where} is missing or empty; check reads the per-module targets there")
    return [Target(pattern, _percent_value(value, f"{where} {pattern!r}")) for pattern, value in table.items()]


def assign_targets(files: Sequence[str], targets: Sequence[Target], *, where: str = TARGETS_SECTION) -> Dict[str, Target]:
    """Each file's target: the first pattern (fnmatch, `*` crosses `/`) that matches it.

    A pattern that decides no file is an error: a critical path renamed or misspelt would
    otherwise lose its target silently, and a specific pattern written after a broader one
    would never apply.
    """
    chosen: Dict[str, Target] = {}
    for name in files:
        for target in targets:
            if fnmatch.fnmatchcase(name, target.pattern):
                chosen[name] = target
                break
    for index, target in enumerate(targets):
        if target in chosen.values():
            continue
        matching = [name for name in files if fnmatch.fnmatchcase(name, target.pattern)]
        if not matching:
            raise ProjectError(f"{where}: {target.pattern!r} matches no measured file (renamed or misspelt?)")
        earlier = next(t.pattern for t in targets[:index] if fnmatch.fnmatchcase(matching[0], t.pattern))
        raise ProjectError(
            f"{where}: {target.pattern!r} decides no file: {earlier!r}, written before it, takes "
            f"{matching[0]}; put the more specific pattern first"
        )
    return chosen


# --- the ratchet ---------------------------------------------------------------------------------


def read_ratchet(path: Path, project_dir: Path = PROJECT_DIR) -> Optional[Decimal]:
    """The floor in .coverage-ratchet.json, read exactly (no float); None when there is no file."""
    name = _shown(path, project_dir)
    if not path.is_file():
        return None
    try:
        floor = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)["floor"]
    except (ValueError, KeyError, TypeError):
        raise ProjectError(f"{name} is not a ratchet file: expected {{\"floor\": 91.74, ...}}") from None
    return _percent_value(floor, f"{name} floor")


def write_ratchet(path: Path, floor: Decimal) -> None:
    """Write the floor with RATCHET_DECIMALS decimals, as a JSON number that reads back exactly."""
    fixed = floor.quantize(Decimal(1).scaleb(-RATCHET_DECIMALS))
    text = (
        "{\n"
        f'  "floor": {fixed},\n'
        f'  "unit": {json.dumps(f"percent_covered (statements + branches) of coverage.json, truncated to {RATCHET_DECIMALS} decimals")},\n'
        f'  "measured_by": {json.dumps(MAIN_JOB)},\n'
        f'  "raised_by": {json.dumps("./test_runner.py check --update-ratchet (never lowered; edit by hand to lower it)")}\n'
        "}\n"
    )
    path.write_text(text, encoding="utf-8")


# --- check -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckJob:
    update_ratchet: bool


def prepare_check(args: argparse.Namespace) -> CheckJob:
    _reject_test_options(args, "check")
    return CheckJob(update_ratchet=args.update_ratchet)


def check(
    *,
    coverage_json: Path,
    pyproject: Path,
    ratchet: Path,
    update_ratchet: bool,
    project_dir: Path = PROJECT_DIR,
    out: Out = print,
) -> ExitCode:
    """Every module against its target, the total against the ratchet floor; BELOW_TARGET if not met."""
    measurement = read_coverage_json(coverage_json, project_dir)
    targets = read_targets(pyproject, project_dir)
    chosen = assign_targets(sorted(measurement.files), targets, where=f"{_shown(pyproject, project_dir)} {TARGETS_SECTION}")
    when = measurement.timestamp[:16].replace("T", " ")
    out(f"check: {_shown(coverage_json, project_dir)} of {when}, line+branch (coverage.py's percent_covered)")

    out(f"  {'target':>6}  {'pattern':<34} {'files':>5}  lowest")
    for target in targets:
        names = [name for name, t in chosen.items() if t == target]
        lowest = min(names, key=lambda name: (measurement.files[name].percent, name))
        out(f"  {show(target.percent):>6}  {target.pattern:<34} {len(names):>5}  "
            f"{show(measurement.files[lowest].shown)} {lowest}")  # fmt: skip
    untargeted = sorted(set(measurement.files) - set(chosen))
    if untargeted:
        out(f"  no target (no pattern matches): {', '.join(untargeted)}")

    below = sorted(
        (name for name, target in chosen.items() if measurement.files[name].percent < target.percent),
        key=lambda name: (measurement.files[name].percent, name),
    )
    for name in below:
        figure, target = measurement.files[name], chosen[name]
        out(f"below target: {name} {show(figure.shown)} < {show(target.percent)} "
            f"({figure.covered}/{figure.total} statements+branches; target from {target.pattern!r})")  # fmt: skip

    total = measurement.total.shown
    floor = read_ratchet(ratchet, project_dir)
    dropped = floor is not None and total < floor
    where = _shown(ratchet, project_dir)
    if floor is None:
        if update_ratchet:
            write_ratchet(ratchet, total)
            out(f"ratchet: total {show(total)}; no floor yet, so {where} now holds {show(total)}")
        else:
            out(f"ratchet: total {show(total)}; no floor yet ({where}): `check --update-ratchet` starts it here")
    elif dropped:
        kept = "; --update-ratchet never lowers it" if update_ratchet else ""
        out(f"ratchet: total {show(total)} is below the floor {show(floor)} ({where}), "
            f"down {number(floor - total)} points{kept}")  # fmt: skip
    elif total == floor:
        out(f"ratchet: total {show(total)} holds the floor {show(floor)} ({where})")
    elif update_ratchet:
        write_ratchet(ratchet, total)
        out(f"ratchet: total {show(total)} rose above the floor {show(floor)}; raised the floor to {show(total)} in {where}")
    else:
        out(f"ratchet: total {show(total)} is above the floor {show(floor)} ({where}); "
            "`./test_runner.py check --update-ratchet` raises it")  # fmt: skip

    if below or dropped:
        reasons = [f"{len(below)} module{'s' if len(below) != 1 else ''} below target"] if below else []
        reasons += ["total below the ratchet floor"] if dropped else []
        say(f"check failed: {' and '.join(reasons)}")
        return ExitCode.BELOW_TARGET
    say(f"check passed: {len(chosen)} modules at or above their targets; total {show(total)}")
    return ExitCode.OK


def run_check(job: CheckJob) -> ExitCode:
    return check(coverage_json=COVERAGE_JSON, pyproject=PYPROJECT, ratchet=RATCHET_FILE, update_ratchet=job.update_ratchet)


def _configure_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--update-ratchet",
        action="store_true",
        help=f"raise the floor in {RATCHET_FILE.name} to the measured total when it rose (never lowers it)",
    )


# --- diff-cover --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffCoverJob:
    compare_branch: str
    fail_under: Optional[Decimal]
    note: Optional[str] = None


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", *args], cwd=str(repo), capture_output=True, text=True)
    except FileNotFoundError:
        raise ProjectError("diff-cover compares with a git branch, and git is not installed") from None


def _commit_of(repo: Path, ref: str) -> Optional[str]:
    result = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    return result.stdout.strip() if result.returncode == 0 else None


def resolve_compare_branch(repo: Path, requested: Optional[str]) -> Tuple[str, Optional[str]]:
    """The branch (or commit) to diff against, the one asked for, else origin/main, else main;
    and a note to show when we fell back (shown by `run`: `prepare` runs twice, before and in the venv).
    """
    if _git(repo, "rev-parse", "--git-dir").returncode != 0:
        raise ProjectError(f"diff-cover compares with a git branch, and {relative(repo)} is not a git checkout")
    if requested is not None:
        if _commit_of(repo, requested) is None:
            raise UsageError(f"--compare-branch {requested}: no such branch or commit here (`git branch -a` lists them)")
        return requested, None
    for branch in DEFAULT_COMPARE_BRANCHES:
        commit = _commit_of(repo, branch)
        if commit is None:
            continue
        if branch == DEFAULT_COMPARE_BRANCHES[0]:
            return branch, None
        same = " (it is HEAD: only uncommitted changes count)" if commit == _commit_of(repo, "HEAD") else ""
        return branch, f"diff-cover: there is no {DEFAULT_COMPARE_BRANCHES[0]}; comparing with {branch}{same}"
    raise UsageError(
        f"there is no {' or '.join(DEFAULT_COMPARE_BRANCHES)} to compare with; pass --compare-branch BRANCH (or a commit)"
    )


def diff_cover(
    *,
    repo: Path,
    coverage_xml: Path,
    compare_branch: str,
    fail_under: Optional[Decimal],
    reports_dir: Path,
    out: Out = print,
) -> ExitCode:
    """diff-cover on the changed lines, partial branches counting as uncovered; reports in `reports_dir`.

    diff-cover itself runs with no --fail-under: its exit status 1 means both "below" and "broken",
    so we judge from its JSON report, which also gives the exact counts.
    """
    if not coverage_xml.is_file():
        raise NoCoverageData(f"no coverage data: {_shown(coverage_xml, repo)} does not exist; run {MAIN_JOB} first")
    reports_dir.mkdir(parents=True, exist_ok=True)
    html, markdown, report = (reports_dir / f"diff-cover.{ext}" for ext in ("html", "md", "json"))
    command = [
        sys.executable, "-m", "diff_cover.diff_cover_tool", str(coverage_xml),
        "--compare-branch", compare_branch,
        "--branch-coverage",  # a line with a partial branch is a line to test
        "--format", f"html:{html},markdown:{markdown},json:{report}",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=str(repo), capture_output=True, text=True)
    if result.stdout:
        out(result.stdout.rstrip("\n"))
    if result.returncode != 0 or not report.is_file():
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise RunnerError(f"diff-cover failed (exit {result.returncode}): {lines[-1] if lines else 'no message'}")
    summary = json.loads(report.read_text(encoding="utf-8"))
    changed, violations = summary["total_num_lines"], summary["total_num_violations"]
    figure = Figure(covered=changed - violations, total=changed)
    written = f"{_shown(html, repo)}, {_shown(markdown, repo)}"
    if changed == 0:
        say(f"diff-cover: no changed line that coverage measures since {compare_branch}; {written}")
        return ExitCode.OK
    text = f"{figure.covered} of {changed} changed lines covered ({show(figure.shown)}) since {compare_branch}"
    if fail_under is not None and figure.percent < fail_under:
        say(f"diff-cover failed: {text}, under --fail-under {show(fail_under)}; {written}")
        return ExitCode.BELOW_TARGET
    say(f"diff-cover: {text}; {written}")
    return ExitCode.OK


def _fail_under(value: str) -> Decimal:
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal(-1)
    if not (number.is_finite() and 0 <= number <= 100):
        raise argparse.ArgumentTypeError(f"expected a percentage from 0 to 100, got {value!r}")
    return number


def prepare_diff_cover(args: argparse.Namespace) -> DiffCoverJob:
    _reject_test_options(args, "diff-cover")
    branch, note = resolve_compare_branch(PROJECT_DIR, args.compare_branch)
    return DiffCoverJob(branch, args.fail_under, note)


def run_diff_cover(job: DiffCoverJob) -> ExitCode:
    if job.note:
        say(job.note)
    return diff_cover(
        repo=PROJECT_DIR,
        coverage_xml=COVERAGE_XML,
        compare_branch=job.compare_branch,
        fail_under=job.fail_under,
        reports_dir=REPORTS_DIR,
    )


def _configure_diff_cover(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--compare-branch",
        metavar="BRANCH",
        default=None,
        help="branch or commit to diff against (default: origin/main, else main)",
    )
    parser.add_argument(
        "--fail-under",
        metavar="N",
        type=_fail_under,
        default=None,
        help="exit 66 when under N%% of the changed lines are covered (partial branches count as uncovered)",
    )


# --- who-covers --------------------------------------------------------------------------------

PHASES = {"setup": 0, "run": 1, "teardown": 2}
LOCATION = re.compile(r"(?P<file>.+):(?P<line>[0-9]+)")


class WhoCoversJob(NamedTuple):
    file: str
    line: int


def parse_location(text: str) -> WhoCoversJob:
    match = LOCATION.fullmatch(text)
    if match is None or int(match["line"]) < 1:
        raise UsageError(f"expected FILE:LINE such as backend/app/services/fx.py:42, got {text!r}")
    return WhoCoversJob(match["file"], int(match["line"]))


def prepare_who_covers(args: argparse.Namespace) -> WhoCoversJob:
    _reject_test_options(args, "who-covers")
    return parse_location(args.location)


def who_covers(
    *,
    data_file: Path,
    rcfile: Path,
    project_dir: Path,
    file: str,
    line: int,
    out: Out = print,
) -> ExitCode:
    """The tests that ran `file`:`line`, from the per-test contexts in the data file."""
    import coverage  # the venv has it; this only runs there

    path = (project_dir / file).resolve()
    shown = file
    if not path.is_file():
        raise UsageError(f"{file}: no such file")
    if not data_file.is_file():
        raise NoCoverageData(f"no coverage data: {_shown(data_file, project_dir)} does not exist; run {CONTEXTS_JOB} (or a TARGET) first")
    cov = coverage.Coverage(data_file=str(data_file), config_file=str(rcfile))
    cov.load()
    data = cov.get_data()
    if not any(data.measured_contexts()):
        raise NoCoverageData(
            f"{_shown(data_file, project_dir)} has no per-test contexts: run with --contexts, e.g. {CONTEXTS_JOB}"
        )
    if str(path) not in data.measured_files():
        raise NoCoverageData(f"{shown} was not measured in the recorded run (outside [run] source, omitted, or never imported)")

    if path.stat().st_mtime > data_file.stat().st_mtime:
        say(f"warning: {shown} changed after {_shown(data_file, project_dir)} was recorded; its lines may have moved")
    source_lines = len(path.read_text(encoding="utf-8").splitlines())
    if line > source_lines:
        raise UsageError(f"{shown} has {source_lines} lines; there is no line {line}")
    _, statements, excluded, _, _ = cov.analysis2(str(path))
    if line in excluded:
        raise UsageError(f"{shown}:{line} is excluded from measurement (.coveragerc [report] exclude rules)")
    if line not in statements:
        before = max((s for s in statements if s < line), default=None)
        hint = f"; the statement before it starts at line {before}" if before is not None else ""
        raise UsageError(
            f"{shown}:{line} is not where a statement starts (blank, a comment, a docstring or a continuation "
            f"line: coverage records a statement on its first line){hint}"
        )
    by_line = data.contexts_by_lineno(str(path))
    contexts = by_line.get(line, [])
    if not contexts:
        raise NoCoverageData(f"no recorded test ran {shown}:{line}: it is a statement, and it was not executed")

    phases: Dict[str, List[str]] = {}
    outside = False
    for context in contexts:
        if not context:
            outside = True  # pytest-cov's context before the first test: imports, collection
            continue
        test, _, phase = context.rpartition("|")
        phases.setdefault(test or context, []).append(phase if test else "")
    if not phases:
        out(f"{shown}:{line} ran in no test, only before the first test started (imports, collection)")
        return ExitCode.OK
    also = "; also before the first test started (imports, collection)" if outside else ""
    out(f"{shown}:{line} ran in {len(phases)} test{'s' if len(phases) != 1 else ''}{also}:")
    for test in sorted(phases):
        # pytest-cov's phases; "run" alone (the test body) goes without saying.
        named = sorted({phase for phase in phases[test] if phase}, key=lambda p: (PHASES.get(p, len(PHASES)), p))
        out(f"  {test}{' (' + ', '.join(named) + ')' if named and named != ['run'] else ''}")
    return ExitCode.OK


def run_who_covers(job: WhoCoversJob) -> ExitCode:
    return who_covers(data_file=COVERAGE_DATA, rcfile=COVERAGERC, project_dir=PROJECT_DIR, file=job.file, line=job.line)


def _configure_who_covers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("location", metavar="FILE:LINE", help="e.g. backend/app/services/fx.py:42")


# --- badge -------------------------------------------------------------------------------------


class BadgeJob(NamedTuple):
    pass


def prepare_badge(args: argparse.Namespace) -> BadgeJob:
    _reject_test_options(args, "badge")
    return BadgeJob()


def badge(*, coverage_json: Path, output: Path) -> Tuple[str, str]:
    """An SVG badge of the total as the terminal report shows it; returns (value, colour).

    The colour is decided on the value shown (coverage's own rounding, `[report] precision`),
    so the badge never shows 90.0% in the colour of 89.96%.
    """
    import anybadge  # the venv has it; this only runs there

    read_coverage_json(coverage_json)  # the same one-line errors as check
    report = json.loads(coverage_json.read_text(encoding="utf-8"))
    value = report["totals"]["percent_covered_display"]
    made = anybadge.Badge("coverage", value, value_suffix="%", thresholds=BADGE_THRESHOLDS)
    output.parent.mkdir(parents=True, exist_ok=True)
    made.write_badge(str(output), overwrite=True)
    return value, made.badge_color


def run_badge(job: BadgeJob) -> ExitCode:
    value, colour = badge(coverage_json=COVERAGE_JSON, output=BADGE_FILE)
    say(f"badge: coverage {value}% ({colour}) written to {relative(BADGE_FILE)}")
    return ExitCode.OK


def _configure_nothing(parser: argparse.ArgumentParser) -> None:
    pass


COMMANDS: Dict[str, Command] = {
    "check": Command(
        help="each module against its target (pyproject.toml), the total against the ratchet floor",
        configure=_configure_check,
        prepare=prepare_check,
        run=run_check,
        usage="check [--update-ratchet]",
    ),
    "diff-cover": Command(
        help="coverage of the lines changed since a branch (diff-cover, branch-aware); reports/diff-cover.*",
        configure=_configure_diff_cover,
        prepare=prepare_diff_cover,
        run=run_diff_cover,
        usage="diff-cover [--compare-branch BRANCH] [--fail-under N]",
    ),
    "who-covers": Command(
        help="the tests that ran a line, from the contexts that --contexts records",
        configure=_configure_who_covers,
        prepare=prepare_who_covers,
        run=run_who_covers,
        usage="who-covers FILE:LINE",
    ),
    "badge": Command(
        help=f"an SVG coverage badge from coverage.json, in {relative(BADGE_FILE)}",
        configure=_configure_nothing,
        prepare=prepare_badge,
        run=run_badge,
        usage="badge",
    ),
}
