"""The `mutate` command of ./test_runner.py: mutation testing of the critical modules with mutmut 3.

`./test_runner.py mutate [MODULE]` runs mutmut on the modules that pyproject.toml's
`[tool.covref.mutation.targets]` names, with the tests its `tests` names, prints each module's
mutation score (killed / mutants) and every mutant that survived with its diff, and exits
MUTANTS_SURVIVED when a module scores under its target.

mutmut 3 copies the source into `mutants/` under its working directory and names a mutant after
its file's path there (`app/services/fx.py` -> `app.services.fx.x_convert__mutmut_3`), while its
trampoline compares that name with the function's `__module__`. Our app is the package `app`
under `backend/` (pytest.ini's pythonpath), so run from the project root mutmut would call every
mutant `backend.app...`, match none, and stop. We therefore run it in a stage, `.mutmut/`, laid
out as pytest sees the code: `app` at the top (a symlink to backend/app), the rest of backend/
beside it (alembic and data, which app.core.config finds next to the package), test_scripts, a
pytest.ini whose pythonpath is `.`, a .coveragerc for mutmut's coverage run, and a pyproject.toml
made of our `[tool.mutmut]` plus the paths above. Every run starts from an empty stage: mutmut
keeps a verdict until the function's source changes, so a deleted test would otherwise leave its
mutants "killed".

Standard library only at module level (arguments are checked on the system python3); mutmut is
imported inside the functions that run in the venv.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from importlib.metadata import version
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from test_scripts.runner.base import (
    Command,
    ExitCode,
    PROJECT_DIR,
    ProjectError,
    RunnerError,
    UsageError,
    refuse_test_options,
    say,
    without_outer_run,
)

STAGE_NAME = ".mutmut"
# The folder that pytest.ini's pythonpath puts on sys.path so that the app imports as `app`.
PACKAGE_ROOT = "backend"
# What backend/ holds beside the package that the tests need no copy of: the server's runtime
# data (its SQLite database can be large).
PACKAGE_ROOT_SKIPPED = ("var",)
SECTION = "[tool.covref.mutation]"
# The keys of [tool.mutmut] that say where things are: the runner writes them for the stage.
STAGE_KEYS = (
    "source_paths", "paths_to_mutate", "only_mutate", "also_copy", "pytest_add_cli_args_test_selection", "tests_dir",
)  # fmt: skip
# mutmut's status line: "771/815  🎉 693 🫥 0 ...": mutants tested / mutants.
PROGRESS = re.compile(r"(\d+)/(\d+)\s+\S+\s+\d+")
SPINNER = re.compile("[\u2800-\u28ff]")  # braille: the frames of mutmut's spinner
PROGRESS_EVERY_S = 30.0

Out = Callable[[str], None]


class MutmutFailed(RunnerError):
    """mutmut could not run the mutants: the clean run failed, or no test reached the code."""

    exit_code = ExitCode.TESTS_FAILED


@dataclass(frozen=True)
class Module:
    """A module to mutate: its project path, its name in the stage and the score it must reach."""

    path: str  # "backend/app/services/fx.py"
    target: Fraction  # percent

    @property
    def staged(self) -> str:
        """Its path in the stage: "app/services/fx.py"."""
        return self.path[len(PACKAGE_ROOT) + 1 :]

    @property
    def name(self) -> str:
        """What MODULE calls it: "services/fx" (the path inside the package, no suffix)."""
        return self.staged.split("/", 1)[1].removesuffix(".py")


@dataclass(frozen=True)
class MutationSettings:
    modules: Tuple[Module, ...]
    tests: Tuple[str, ...]
    mutmut: Mapping[str, object]  # [tool.mutmut] as written


@dataclass(frozen=True)
class MutateJob:
    project_dir: Path
    settings: MutationSettings
    modules: Tuple[Module, ...]  # the ones this run mutates
    max_children: int


# --- configuration ---------------------------------------------------------------------------


def _percent(value: object, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ProjectError(f"{where} must be a percentage from 0 to 100, got {value!r}")
    return Fraction(str(value))


def read_settings(project_dir: Path) -> MutationSettings:
    """[tool.covref.mutation] and [tool.mutmut] of the project's pyproject.toml, checked."""
    pyproject = project_dir / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProjectError(f"mutate reads {SECTION} in pyproject.toml, and the project has none") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"pyproject.toml is not valid TOML: {exc}") from None
    tool = data.get("tool", {})
    section = tool.get("covref", {}).get("mutation")
    if not isinstance(section, dict):
        raise ProjectError(f"pyproject.toml has no {SECTION}: it names the modules to mutate and their targets")
    targets = section.get("targets")
    if not isinstance(targets, dict) or not targets:
        raise ProjectError(f"{SECTION} has no targets: a table of module path = mutation score in percent")
    modules = []
    for path, target in targets.items():
        if not (path.startswith(f"{PACKAGE_ROOT}/") and path.endswith(".py") and path.count("/") >= 2):
            raise ProjectError(f"{SECTION} targets: {path!r} is not a module under {PACKAGE_ROOT}/<package>/")
        if not (project_dir / path).is_file():
            raise ProjectError(f"{SECTION} targets: {path} does not exist")
        modules.append(Module(path, _percent(target, f"{SECTION} targets {path!r}")))
    tests = section.get("tests")
    if not (isinstance(tests, list) and tests and all(isinstance(t, str) for t in tests)):
        raise ProjectError(f'{SECTION} tests must be a list of test folders or files, e.g. ["test_scripts/test_services"]')
    missing = [test for test in tests if not (project_dir / test).exists()]
    if missing:
        raise ProjectError(f"{SECTION} tests: {', '.join(missing)} does not exist")
    mutmut = tool.get("mutmut", {})
    given = [key for key in STAGE_KEYS if key in mutmut]
    if given:
        it = "it" if len(given) == 1 else "them"
        raise ProjectError(
            f"[tool.mutmut] sets {', '.join(given)}; ./test_runner.py mutate writes {it} for its stage from {SECTION}: "
            f"remove {it}"
        )
    return MutationSettings(modules=tuple(modules), tests=tuple(tests), mutmut=mutmut)


def choose_modules(settings: MutationSettings, requested: Optional[str]) -> Tuple[Module, ...]:
    """All the modules, or the one MODULE names: "services/fx", its last part "fx", or its path."""
    if requested is None:
        return settings.modules
    wanted = requested.removesuffix(".py")
    for module in settings.modules:
        if wanted in (module.name, module.path.removesuffix(".py"), module.staged.removesuffix(".py")):
            return (module,)
    short = [module for module in settings.modules if module.name.rsplit("/", 1)[-1] == wanted]
    if len(short) == 1:
        return (short[0],)
    names = ", ".join(sorted(module.name for module in settings.modules))
    raise UsageError(f"unknown module {requested!r} for mutate; available: {names} (or the last part of a name)")


# --- the command ------------------------------------------------------------------------------


def _reject_other_options(args: argparse.Namespace) -> None:
    refuse_test_options(args, "mutate")
    if args.pytest_args:
        raise UsageError("mutate takes no pytest arguments: its tests are [tool.covref.mutation] tests in pyproject.toml")


def prepare_mutate(args: argparse.Namespace, project_dir: Path = PROJECT_DIR) -> MutateJob:
    _reject_other_options(args)
    settings = read_settings(project_dir)
    modules = choose_modules(settings, args.module)
    return MutateJob(project_dir=project_dir, settings=settings, modules=modules, max_children=args.max_children)


def _toml_value(key: str, value: object) -> str:
    """A [tool.mutmut] value as TOML: JSON's strings, numbers, booleans and arrays are TOML's too."""
    scalars = (str, int, float, bool)
    if isinstance(value, scalars) or (isinstance(value, list) and all(isinstance(item, scalars) for item in value)):
        return json.dumps(value, ensure_ascii=False)
    raise ProjectError(f"[tool.mutmut] {key} = {value!r}: mutate passes on strings, numbers, booleans and lists of them")


def _stage_pytest_ini(project_dir: Path) -> str:
    """The project's pytest.ini with `pythonpath = .`: in the stage, `app` and `test_scripts` sit side by side."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    if not parser.read(project_dir / "pytest.ini", encoding="utf-8") or not parser.has_section("pytest"):
        raise ProjectError("mutate runs the tests with the project's pytest.ini, and it has none (or no [pytest])")
    parser["pytest"]["pythonpath"] = "."
    lines = ["# Written by ./test_runner.py mutate from ../pytest.ini; only pythonpath differs."]
    for section in parser.sections():
        lines.append(f"[{section}]")
        lines += [f"{key} = {value}".replace("\n", "\n    ") for key, value in parser[section].items()]
    return "\n".join(lines) + "\n"


def _stage_coveragerc(project_dir: Path) -> str:
    """The settings of the project's .coveragerc that decide which lines mutmut mutates.

    `mutate_only_covered_lines` has mutmut run the tests under coverage.py and mutate the lines
    that ran. It builds `coverage.Coverage()` in the stage, which reads .coveragerc there, so we
    give it the project's concurrency: coverage's default loses executed lines after database
    awaits when the tests go through the threaded server (the README's "Measured" section), and
    mutmut would silently not mutate those lines. (With the service tests alone, both settings
    measured the same lines on 2026-11-21; the setting is there for the suites that differ.)
    """
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(project_dir / ".coveragerc", encoding="utf-8")
    lines = ["# Written by ./test_runner.py mutate from ../.coveragerc: what decides the covered lines.", "[run]"]
    if parser.has_option("run", "concurrency"):
        lines.append(f"concurrency = {parser.get('run', 'concurrency')}")
    lines.append("[report]")
    for key in ("exclude_lines", "exclude_also"):
        if parser.has_option("report", key):
            lines.append(f"{key} = {parser.get('report', key)}".replace("\n", "\n    "))
    return "\n".join(lines) + "\n"


def build_stage(project_dir: Path, stage: Path, settings: MutationSettings, modules: Sequence[Module]) -> None:
    """Lay out `stage` as pytest sees the project (see the module's docstring); mutmut runs there."""
    if stage.exists() or stage.is_symlink():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    package_root = project_dir / PACKAGE_ROOT
    packages = sorted({module.staged.split("/", 1)[0] for module in settings.modules})
    beside = [
        entry.name
        for entry in sorted(package_root.iterdir())
        if entry.name not in packages and entry.name not in PACKAGE_ROOT_SKIPPED and not entry.name.startswith(".")
    ]
    test_roots = sorted({Path(test).parts[0] for test in settings.tests})
    for name in [*packages, *beside]:
        (stage / name).symlink_to(package_root / name)
    for name in test_roots:
        (stage / name).symlink_to(project_dir / name)
    (stage / "pytest.ini").write_text(_stage_pytest_ini(project_dir), encoding="utf-8")
    (stage / ".coveragerc").write_text(_stage_coveragerc(project_dir), encoding="utf-8")
    layout = {
        "source_paths": packages,
        "only_mutate": [module.staged for module in modules],
        "also_copy": [*beside, *test_roots, "pytest.ini"],
        "pytest_add_cli_args_test_selection": list(settings.tests),
    }
    lines = [
        "# Written by ./test_runner.py mutate: ../pyproject.toml's [tool.mutmut], then the stage's paths.",
        "[tool.mutmut]",
    ]
    lines += [f"{key} = {_toml_value(key, value)}" for key, value in {**settings.mutmut, **layout}.items()]
    (stage / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _mutmut_executable() -> str:
    script = Path(sys.executable).parent / "mutmut"
    if not script.is_file():
        raise ProjectError(f"mutmut is not installed in {Path(sys.prefix)}; it is in Pipfile.lock: re-sync the venv")
    return str(script)


def run_mutmut(stage: Path, max_children: int, *, out: Out = say) -> Tuple[int, str]:
    """Run `mutmut run` in the stage; its output goes to mutmut.log there, and we show progress."""
    log_path = stage / "mutmut.log"
    command = [_mutmut_executable(), "run", "--max-children", str(max_children)]
    # Not the caller's coverage (COVERAGE_RCFILE would replace the stage's .coveragerc) nor its
    # pytest-xdist worker name (the conftest picks a PostgreSQL database by it).
    env = without_outer_run(os.environ)
    last_report = time.monotonic()
    tail = ""
    with open(log_path, "w", encoding="utf-8") as log, subprocess.Popen(
        command, cwd=stage, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8",
        errors="replace",
    ) as process:  # fmt: skip
        assert process.stdout is not None
        for chunk in iter(lambda: process.stdout.read(4096), ""):  # type: ignore[union-attr]
            log.write(chunk)
            tail = (tail + chunk)[-20000:]
            if time.monotonic() - last_report >= PROGRESS_EVERY_S:
                found = PROGRESS.findall(tail)
                if found:
                    done, total = found[-1]
                    out(f"mutate: {done}/{total} mutants tested")
                log.flush()
                last_report = time.monotonic()
        returncode = process.wait()
    return returncode, tail


def _last_words(output: str) -> str:
    """mutmut's last message (it draws a spinner with carriage returns; we want its last real line)."""
    lines = [line.strip() for line in re.split(r"[\r\n]", output) if line.strip()]
    meaningful = [line for line in lines if not PROGRESS.search(line) and not SPINNER.match(line)]
    return meaningful[-1] if meaningful else (lines[-1] if lines else "no output")


@dataclass(frozen=True)
class ModuleResult:
    module: Module
    statuses: Mapping[str, str]  # mutant name -> mutmut's status ("killed", "survived", ...)

    @property
    def total(self) -> int:
        return len(self.statuses)

    @property
    def killed(self) -> int:
        """Killed by a failing test, or by taking too long (mutmut's own score counts both)."""
        return sum(status in ("killed", "timeout") for status in self.statuses.values())

    @property
    def score(self) -> Fraction:
        return Fraction(100 * self.killed, self.total) if self.total else Fraction(100)

    @property
    def survivors(self) -> List[Tuple[str, str]]:
        return [(name, status) for name, status in self.statuses.items() if status not in ("killed", "timeout")]


def read_results(stage: Path, modules: Sequence[Module]) -> List[ModuleResult]:
    """Each module's mutants and their status, from mutmut's own records in the stage."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code

    results = []
    with contextlib.chdir(stage):
        for module in modules:
            data = SourceFileMutationData(path=module.staged)
            data.load()
            statuses = {name: status_by_exit_code[code] for name, code in data.exit_code_by_key.items()}
            results.append(ModuleResult(module, statuses))
    return results


def mutant_diff(stage: Path, module: Module, mutant: str) -> str:
    """The mutant as a diff of its function (mutmut's own `mutmut show`, without the file header)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    with contextlib.chdir(stage):
        diff = get_diff_for_mutant(mutant, path=module.staged)
    return "\n".join(line for line in diff.splitlines() if not line.startswith(("--- ", "+++ ")))


def _percent_text(value: Fraction) -> str:
    """One decimal, truncated: a score is never shown above what was measured."""
    tenths = value.numerator * 10 // value.denominator
    return f"{tenths // 10}.{tenths % 10}%"


def report(stage: Path, results: Sequence[ModuleResult], *, print_line: Out = print) -> bool:
    """Print the survivors with their diffs, then the scores; True when every module meets its target."""
    for result in results:
        if not result.survivors:
            continue
        print_line(f"surviving mutants of {result.module.path} ({len(result.survivors)}):")
        for name, status in result.survivors:
            shown = "" if status == "survived" else f"  ({status})"
            print_line(f"  {name}{shown}")
            for line in mutant_diff(stage, result.module, name).splitlines():
                print_line(f"    {line}")
        print_line("")
    width = max(len(result.module.path) for result in results)
    passed = True
    print_line("mutation score (killed / mutants), against the target:")
    for result in results:
        ok = result.score >= result.module.target
        passed = passed and ok
        target = _percent_text(result.module.target).removesuffix(".0%") + "%"
        verdict = "ok" if ok else "UNDER TARGET"
        print_line(
            f"  {result.module.path:<{width}}  {result.killed:>4} / {result.total:<4} {_percent_text(result.score):>6}"
            f"  target {target:<4} {verdict}"
        )
    return passed


def mutate(job: MutateJob, *, out: Out = say, print_line: Out = print) -> ExitCode:
    stage = job.project_dir / STAGE_NAME
    build_stage(job.project_dir, stage, job.settings, job.modules)
    names = ", ".join(module.path for module in job.modules)
    out(
        f"mutate: mutmut {version('mutmut')} on {names}, with {', '.join(job.settings.tests)}, "
        f"{job.max_children} at a time; its output: {STAGE_NAME}/mutmut.log"
    )
    started = time.monotonic()
    returncode, output = run_mutmut(stage, job.max_children, out=out)
    elapsed = time.monotonic() - started
    if returncode != 0:
        raise MutmutFailed(f"mutmut stopped (exit {returncode}): {_last_words(output)}; see {STAGE_NAME}/mutmut.log")
    results = read_results(stage, job.modules)
    empty = [result.module.path for result in results if not result.total]
    if empty:
        raise MutmutFailed(f"mutmut made no mutants of {', '.join(empty)}: does {', '.join(job.settings.tests)} run it?")
    passed = report(stage, results, print_line=print_line)
    browse = f"cd {STAGE_NAME} && {os.path.relpath(_mutmut_executable(), stage)} browse"
    out(f"mutate: {sum(r.total for r in results)} mutants in {elapsed:.0f} s; to browse them: {browse}")
    return ExitCode.OK if passed else ExitCode.MUTANTS_SURVIVED


def _max_children(value: str) -> int:
    if value.isascii() and value.isdigit() and int(value) >= 1:
        return int(value)
    raise argparse.ArgumentTypeError(f"expected a number of mutants at a time (1 or more), got {value!r}")


def _configure_mutate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "module",
        nargs="?",
        default=None,
        metavar="MODULE",
        help="one module of [tool.covref.mutation] targets, e.g. services/fx or fx (default: all of them)",
    )
    parser.add_argument(
        "-j",
        "--max-children",
        metavar="N",
        type=_max_children,
        default=os.cpu_count() or 1,
        help="mutants tested at a time (default: the cores)",
    )


COMMANDS: Dict[str, Command] = {
    "mutate": Command(
        help="mutation testing (mutmut) of the critical modules; exit 67 when a score is under its target",
        configure=_configure_mutate,
        prepare=prepare_mutate,
        run=mutate,
        usage="mutate [MODULE] [-j N]",
    ),
}
