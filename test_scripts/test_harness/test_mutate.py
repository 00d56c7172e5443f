"""Tests for `./test_runner.py mutate`: test_scripts/runner/mutate.py.

The end-to-end tests run the real mutmut on a throwaway project in tmp_path laid out like ours
(the package `app` under backend/, tests under test_scripts/, a pytest.ini whose pythonpath
names both): one module of one function and three mutants, so each run takes seconds. A weak
test lets two mutants survive and the command fails with MUTANTS_SURVIVED, printing them; a
strong test kills all three and it passes. Nothing here touches the project's own .mutmut/.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from test_scripts.runner import bootstrap, cli, mutate
from test_scripts.runner.base import ExitCode, ProjectError, UsageError
from test_scripts.runner.mutate import Module, MutateJob, MutationSettings

GREETING = '''\
def greeting(name: str) -> str:
    return "hello " + name
'''
WEAK_TEST = '''\
from app.greet import greeting


def test_greeting_is_text():
    assert isinstance(greeting("ann"), str)
'''
STRONG_TEST = '''\
from app.greet import greeting


def test_greeting_greets_by_name():
    assert greeting("ann") == "hello ann"
'''
PYPROJECT = '''\
[tool.covref.mutation]
tests = ["test_scripts"]

[tool.covref.mutation.targets]
"backend/app/greet.py" = 80

[tool.mutmut]
mutate_only_covered_lines = true
'''


def make_project(root: Path, test: str, *, pyproject: str = PYPROJECT) -> Path:
    """A project laid out like ours, with one module, backend/app/greet.py, and one test of it."""
    files = {
        "backend/app/__init__.py": "",
        "backend/app/greet.py": GREETING,
        "backend/data/note.txt": "what app finds beside itself, as our app finds alembic/ and data/\n",
        "test_scripts/__init__.py": "",
        "test_scripts/test_greet.py": test,
        "pytest.ini": "[pytest]\npythonpath = backend .\naddopts = -p no:cacheprovider\n",
        ".coveragerc": "[run]\nconcurrency = thread\n[report]\nexclude_also =\n    if TYPE_CHECKING:\n",
        "pyproject.toml": pyproject,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def _no_plugin_autoload(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throwaway project's tests need no pytest plugin: loading ours (hypothesis, schemathesis,
    ...) in each of mutmut's pytest runs would make up most of their time."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def run_mutate(project: Path) -> tuple[ExitCode, list[str], list[str]]:
    settings = mutate.read_settings(project)
    job = MutateJob(project_dir=project, settings=settings, modules=settings.modules, max_children=2)
    said: list[str] = []
    printed: list[str] = []
    code = mutate.mutate(job, out=said.append, print_line=printed.append)
    return code, said, printed


def args(module: str | None = None, **overrides: object) -> argparse.Namespace:
    values: dict[str, object] = dict(module=module, max_children=1, pytest_args=[], coverage=False, contexts=False,
                                     db=None, transport=None, workers=None, keyword=None)  # fmt: skip
    values.update(overrides)
    return argparse.Namespace(**values)


# --- end to end, with mutmut --------------------------------------------------------------------


def test_weak_test_lets_mutants_survive_and_fails_with_them_printed(tmp_path: Path) -> None:
    code, said, printed = run_mutate(make_project(tmp_path, WEAK_TEST))
    assert code == ExitCode.MUTANTS_SURVIVED
    survivors = [line.strip() for line in printed if line.startswith("  app.greet.")]
    assert survivors == ["app.greet.x_greeting__mutmut_2", "app.greet.x_greeting__mutmut_3"]
    text = "\n".join(printed)
    assert '    -    return "hello " + name\n    +    return "XXhello XX" + name' in text
    assert '    -    return "hello " + name\n    +    return "HELLO " + name' in text
    assert "  backend/app/greet.py     1 / 3     33.3%  target 80%  UNDER TARGET" in printed
    assert said[0].startswith("mutate: mutmut 3.8.1 on backend/app/greet.py, with test_scripts, 2 at a time")


def test_strong_test_kills_every_mutant_and_passes(tmp_path: Path) -> None:
    code, _, printed = run_mutate(make_project(tmp_path, STRONG_TEST))
    assert code == ExitCode.OK
    assert not [line for line in printed if line.startswith("surviving")]
    assert "  backend/app/greet.py     3 / 3    100.0%  target 80%  ok" in printed


def test_each_run_starts_afresh_so_a_weakened_test_is_noticed(tmp_path: Path) -> None:
    project = make_project(tmp_path, STRONG_TEST)
    assert run_mutate(project)[0] == ExitCode.OK
    # mutmut alone keeps a "killed" verdict until the function's source changes.
    (project / "test_scripts/test_greet.py").write_text(WEAK_TEST, encoding="utf-8")
    assert run_mutate(project)[0] == ExitCode.MUTANTS_SURVIVED


def test_tests_that_fail_unmutated_stop_the_run_in_one_line(tmp_path: Path) -> None:
    broken = STRONG_TEST.replace('"hello ann"', '"goodbye ann"')
    with pytest.raises(mutate.MutmutFailed) as caught:
        run_mutate(make_project(tmp_path, broken))
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("mutmut stopped (exit 1): ")
    assert str(caught.value).endswith("; see .mutmut/mutmut.log")
    assert caught.value.exit_code == ExitCode.TESTS_FAILED


# --- the stage ---------------------------------------------------------------------------------


def test_stage_puts_the_package_at_the_top_beside_the_tests(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", STRONG_TEST)
    settings = mutate.read_settings(project)
    stage = tmp_path / "stage"
    mutate.build_stage(project, stage, settings, settings.modules)
    assert sorted(p.name for p in stage.iterdir()) == [
        ".coveragerc", "app", "data", "pyproject.toml", "pytest.ini", "test_scripts"
    ]  # fmt: skip
    assert (stage / "app").resolve() == project / "backend/app"
    assert (stage / "data").resolve() == project / "backend/data"
    assert "pythonpath = .\n" in (stage / "pytest.ini").read_text(encoding="utf-8")
    assert (stage / "pyproject.toml").read_text(encoding="utf-8").splitlines()[1:] == [
        "[tool.mutmut]",
        "mutate_only_covered_lines = true",
        'source_paths = ["app"]',
        'only_mutate = ["app/greet.py"]',
        'also_copy = ["data", "test_scripts", "pytest.ini"]',
        'pytest_add_cli_args_test_selection = ["test_scripts"]',
    ]


def test_stage_coveragerc_keeps_the_concurrency_that_decides_covered_lines() -> None:
    # mutmut mutates only the lines coverage saw run; through the threaded server, coverage's
    # default concurrency loses lines after database awaits, and mutmut would skip them.
    text = mutate._stage_coveragerc(cli.PROJECT_DIR)
    assert "concurrency = thread,greenlet\n" in text
    assert "source" not in text


def test_stage_replaces_the_previous_one(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", STRONG_TEST)
    settings = mutate.read_settings(project)
    stage = tmp_path / "stage"
    (stage / "mutants").mkdir(parents=True)
    (stage / "mutants" / "mutmut-stats.json").write_text("{}", encoding="utf-8")
    mutate.build_stage(project, stage, settings, settings.modules)
    assert not (stage / "mutants").exists()


# --- configuration and MODULE ----------------------------------------------------------------------


def settings_of(*paths: str) -> MutationSettings:
    return MutationSettings(modules=tuple(Module(path, Fraction(80)) for path in paths), tests=("t",), mutmut={})


@pytest.mark.parametrize("given", ["services/fx", "fx", "fx.py", "backend/app/services/fx.py", "app/services/fx"])
def test_module_is_named_by_path_in_the_package_or_its_last_part(given: str) -> None:
    settings = settings_of("backend/app/services/assets.py", "backend/app/services/fx.py")
    assert mutate.choose_modules(settings, given) == (settings.modules[1],)


def test_no_module_means_all_of_them() -> None:
    settings = settings_of("backend/app/services/assets.py", "backend/app/services/fx.py")
    assert mutate.choose_modules(settings, None) == settings.modules


def test_unknown_module_lists_the_choices() -> None:
    with pytest.raises(UsageError) as caught:
        mutate.choose_modules(settings_of("backend/app/services/fx.py", "backend/app/services/assets.py"), "fxx")
    assert str(caught.value) == (
        "unknown module 'fxx' for mutate; available: services/assets, services/fx (or the last part of a name)"
    )


def test_last_part_shared_by_two_modules_is_not_a_name() -> None:
    with pytest.raises(UsageError):
        mutate.choose_modules(settings_of("backend/app/services/fx.py", "backend/app/api/fx.py"), "fx")


def test_project_settings_name_the_services_with_their_targets() -> None:
    settings = mutate.read_settings(cli.PROJECT_DIR)
    assert {module.path: module.target for module in settings.modules} == {
        "backend/app/services/fx.py": 80, "backend/app/services/assets.py": 80,
    }  # fmt: skip
    assert settings.tests == ("test_scripts/test_services",)
    assert settings.mutmut["mutate_only_covered_lines"] is True


def test_mutmut_paths_in_pyproject_are_refused(tmp_path: Path) -> None:
    make_project(tmp_path, STRONG_TEST, pyproject=PYPROJECT + 'source_paths = ["backend"]\n')
    with pytest.raises(ProjectError) as caught:
        mutate.read_settings(tmp_path)
    assert str(caught.value) == (
        "[tool.mutmut] sets source_paths; ./test_runner.py mutate writes it for its stage from "
        "[tool.covref.mutation]: remove it"
    )


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ("[tool.mutmut]\n", "pyproject.toml has no [tool.covref.mutation]: it names the modules to mutate and their targets"),
        (PYPROJECT.replace('"backend/app/greet.py"', '"backend/app/gone.py"'),
         "[tool.covref.mutation] targets: backend/app/gone.py does not exist"),
        (PYPROJECT.replace("= 80", "= 180"),
         "[tool.covref.mutation] targets 'backend/app/greet.py' must be a percentage from 0 to 100, got 180"),
        (PYPROJECT.replace('["test_scripts"]', '["test_scripts/test_nothing"]'),
         "[tool.covref.mutation] tests: test_scripts/test_nothing does not exist"),
    ],
)  # fmt: skip
def test_bad_settings_are_one_line(tmp_path: Path, pyproject: str, message: str) -> None:
    make_project(tmp_path, STRONG_TEST, pyproject=pyproject)
    with pytest.raises(ProjectError) as caught:
        mutate.read_settings(tmp_path)
    assert str(caught.value) == message


def test_test_options_are_refused() -> None:
    with pytest.raises(UsageError) as caught:
        mutate.prepare_mutate(args(coverage=True, db="postgres"))
    assert str(caught.value) == "--coverage, --db are test options; mutate does not take them"


# --- through ./test_runner.py ------------------------------------------------------------------


def run_runner(*argv: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **{bootstrap.VENV_ENV_VAR: sys.prefix})
    return subprocess.run(
        [sys.executable, str(cli.RUNNER_SCRIPT), *argv], capture_output=True, text=True, env=env, timeout=60
    )


def test_runner_unknown_module_is_one_line_and_usage() -> None:
    result = run_runner("mutate", "nope")
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == (
        "test_runner.py: error: unknown module 'nope' for mutate; available: services/assets, services/fx "
        "(or the last part of a name)\n"
    )
    assert result.stdout == ""


def test_runner_help_lists_mutate_and_its_exit_code() -> None:
    result = run_runner("--help")
    assert "test_runner.py mutate [MODULE] [-j N]" in result.stdout
    assert "67  MUTANTS_SURVIVED  mutate: a module's mutation score is under its target" in result.stdout
