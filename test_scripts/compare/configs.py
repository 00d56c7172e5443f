"""The coverage configurations compare measures, by name, and the rc file each one runs with.

Standard library only: the runner checks `--configs` before it enters the venv.

A name is a base name, optionally with ``/branch``::

    thread            coverage's default: concurrency = thread, the default core, line coverage
    greenlet          concurrency = greenlet (without thread: other threads go unmeasured)
    gevent            concurrency = gevent (likewise)
    thread+greenlet   concurrency = thread,greenlet
    thread+gevent     concurrency = thread,gevent
    sysmon            core = sysmon, concurrency = thread, line coverage (Python 3.12+)
    slipcover         slipcover (bytecode probes, no tracer), its result written into a coverage
                      data file by test_scripts/slipcover_data.py
    project           the project's own rc file as it is, run by coverage.py: the guard for
                      anyone who runs pytest --cov or coverage run with it
    runner            what ./test_runner.py --coverage runs on this Python for the rc's branch
                      setting (test_scripts/runner/engines.py): the guard for the runner

Every named configuration but ``project`` gets the project's rc with ``concurrency``, ``branch``
and ``core`` set (``timid`` and ``dynamic_context`` removed: both change the core), and keeps the
rest: ``source``, ``omit``, ``[report]`` exclusions. ``project`` keeps even those. All of them get
their own ``data_file`` and the measured ``source`` (which is what the ``patterns`` category
changes). A slipcover configuration's rc decides what its data is converted and reported with.
"""

from __future__ import annotations

import configparser
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

BRANCH_SUFFIX = "/branch"
PROJECT = "project"
RUNNER = "runner"
SLIPCOVER = "slipcover"
SYSMON = "sysmon"
SYSMON_MIN_PYTHON = (3, 12)
# coverage measures branches on sys.monitoring from 3.14 (env.PYBEHAVIOR.branch_right_left);
# before that, core = sysmon with branch = True warns "no-sysmon" and runs the C tracer.
SYSMON_BRANCH_MIN_PYTHON = (3, 14)


class ConfigError(ValueError):
    """A configuration name we cannot measure; the message is one line for the person."""


@dataclass(frozen=True)
class Base:
    concurrency: Optional[Tuple[str, ...]]  # None: as the project's rc says
    core: Optional[str]
    about: str
    engine: str = "coverage"  # what records: coverage.py (under pytest-cov) or slipcover


BASES: Dict[str, Base] = {
    "thread": Base(("thread",), None, "coverage's default (concurrency = thread)"),
    "greenlet": Base(("greenlet",), None, "concurrency = greenlet"),
    "gevent": Base(("gevent",), None, "concurrency = gevent"),
    "thread+greenlet": Base(("thread", "greenlet"), None, "concurrency = thread,greenlet"),
    "thread+gevent": Base(("thread", "gevent"), None, "concurrency = thread,gevent"),
    SYSMON: Base(("thread",), SYSMON, "core = sysmon, line coverage"),
    SLIPCOVER: Base(None, None, "slipcover, converted to coverage data", engine=SLIPCOVER),
    PROJECT: Base(None, None, "the project's rc file as it is"),
    RUNNER: Base(None, None, "what ./test_runner.py --coverage runs", engine=RUNNER),
}
# The names that stand for an rc file or a choice, not a configuration: no /branch.
WHOLE = (PROJECT, RUNNER)

DEFAULT_NAMES: Tuple[str, ...] = (
    "thread",
    "thread/branch",
    "greenlet",
    "gevent",
    "thread+greenlet",
    "thread+greenlet/branch",
    "thread+gevent",
    SYSMON,
    SLIPCOVER,
    SLIPCOVER + BRANCH_SUFFIX,
    PROJECT,
    RUNNER,
)


@dataclass(frozen=True)
class Config:
    """One configuration to measure."""

    name: str
    base: str
    branch: Optional[bool]  # None for project: as its rc says
    stands_for: Optional[str] = None  # runner, once resolved for a Python: the configuration it runs

    @property
    def concurrency(self) -> Optional[Tuple[str, ...]]:
        return BASES[self.base].concurrency

    @property
    def core(self) -> Optional[str]:
        return BASES[self.base].core

    @property
    def is_project(self) -> bool:
        return self.base == PROJECT

    @property
    def engine(self) -> str:
        return BASES[self.base].engine

    @property
    def dirname(self) -> str:
        """A file name for the config: `thread+greenlet/branch` -> `thread+greenlet-branch`."""
        return self.name.replace("/", "-")

    @property
    def about(self) -> str:
        if self.stands_for is not None:
            return f"{BASES[RUNNER].about} here: {self.stands_for}"
        text = BASES[self.base].about
        return f"{text}, branch" if self.branch else text


def known_names_text() -> str:
    return ", ".join(BASES) + (
        f" (each but {' and '.join(WHOLE)} also with {BRANCH_SUFFIX}, e.g. thread+greenlet{BRANCH_SUFFIX})"
    )


def parse_names(text: Optional[str]) -> List[Config]:
    """The configurations of a `--configs` value (None: the default set), in order, without repeats."""
    names = DEFAULT_NAMES if text is None else [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ConfigError(f"--configs is empty; known configurations: {known_names_text()}")
    configs: List[Config] = []
    for name in names:
        base, slash, suffix = name.partition("/")
        if base not in BASES or (slash and suffix != BRANCH_SUFFIX[1:]):
            raise ConfigError(f"unknown configuration {name!r}; known: {known_names_text()}")
        if base == PROJECT and slash:
            raise ConfigError(
                f"{name!r}: {PROJECT} is the project's rc file as it is (its own branch setting); drop /branch"
            )
        if base == RUNNER and slash:
            raise ConfigError(
                f"{name!r}: {RUNNER} follows the rc file's branch setting, as --coverage does; drop /branch"
            )
        config = Config(name=name, base=base, branch=None if base in WHOLE else bool(slash))
        if config not in configs:
            configs.append(config)
    return configs


def refusal(config: Config, python: Sequence[int]) -> Optional[str]:
    """Why `config` cannot be measured on Python `python` at all (a usage error), or None."""
    if config.base == SYSMON and config.branch and tuple(python[:2]) < SYSMON_BRANCH_MIN_PYTHON:
        shown = ".".join(map(str, python[:3]))
        return (
            f"{config.name} needs Python 3.14+: on {shown} coverage cannot measure branches on sys.monitoring "
            "and falls back to the C tracer (warning no-sysmon), so it would not measure sysmon; "
            f"use {SYSMON} (line coverage) or thread+greenlet{BRANCH_SUFFIX}"
        )
    return None


def resolve_runner(config: Config, python: Sequence[int], project_rc: Path) -> Config:
    """`runner` as the configuration `--coverage` runs on Python `python`; any other config unchanged."""
    if config.base != RUNNER:
        return config
    from test_scripts.runner import engines  # engines imports this module

    chosen = engines.choose(python, branch=rc_branch(project_rc), contexts=False)
    [target] = parse_names(chosen.config)
    return Config(name=config.name, base=target.base, branch=target.branch, stands_for=target.name)


def skip_reason(config: Config, python: Sequence[int]) -> Optional[str]:
    """Why `config` is skipped on Python `python` (noted in the output and the JSON), or None."""
    if config.base == SYSMON and tuple(python[:2]) < SYSMON_MIN_PYTHON:
        shown = ".".join(map(str, python[:3]))
        return f"the sys.monitoring core needs Python 3.12+; this is {shown}"
    return None


# --- rc files ---------------------------------------------------------------------------------


def _read(rcfile: Path) -> configparser.RawConfigParser:
    # Raw, like coverage's own HandyConfigParser: "${VAR-default}" is coverage's to expand.
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    with open(rcfile, encoding="utf-8") as src:
        parser.read_file(src, source=str(rcfile))
    return parser


def rc_sources(rcfile: Path) -> List[str]:
    """The `[run] source` entries of an rc file (comma or newline separated), as written."""
    parser = _read(rcfile)
    if not parser.has_option("run", "source"):
        return []
    value = parser.get("run", "source")
    return [part.strip() for line in value.splitlines() for part in line.split(",") if part.strip()]


def rc_list(rcfile: Path, section: str, option: str) -> List[str]:
    """A list option of an rc file (comma or newline separated, comment lines dropped), as written."""
    parser = _read(rcfile)
    if not parser.has_option(section, option):
        return []
    value = parser.get(section, option)
    parts = [part.strip() for line in value.splitlines() for part in line.split(",")]
    return [part for part in parts if part and not part.startswith("#")]


def rc_branch(rcfile: Path) -> bool:
    """The rc file's `[run] branch`, as coverage reads a boolean (default False)."""
    parser = _read(rcfile)
    if not parser.has_option("run", "branch"):
        return False
    return parser.get("run", "branch").strip().lower() in ("1", "yes", "true", "on")


def _multi(values: Sequence[str]) -> str:
    return values[0] if len(values) == 1 else "\n" + "\n".join(values)


def rc_text(
    config: Config, project_rc: Path, *, data_file: Optional[Path] = None, sources: Optional[Sequence[Path]] = None
) -> str:
    """The rc file `config` runs with: the project's, with data_file and source redirected if given."""
    parser = _read(project_rc)
    if not parser.has_section("run"):
        parser.add_section("run")
    if data_file is not None:
        parser.set("run", "data_file", str(data_file))
    if sources is not None:
        parser.set("run", "source", _multi([str(source) for source in sources]))
    if not config.is_project:
        assert config.base != RUNNER, "resolve_runner first"
        if config.concurrency is not None:
            parser.set("run", "concurrency", ",".join(config.concurrency))
        parser.set("run", "branch", str(bool(config.branch)))
        for name in ("core", "timid", "dynamic_context"):
            parser.remove_option("run", name)
        if config.core is not None:
            parser.set("run", "core", config.core)
    out = io.StringIO()
    out.write(
        f"# Written by ./test_runner.py compare for configuration {config.name!r} ({config.about}),\n"
        f"# from {project_rc}. Regenerated on every run; edit the project's rc file instead.\n\n"
    )
    parser.write(out)
    return out.getvalue()


def write_rc(
    config: Config,
    project_rc: Path,
    rc_path: Path,
    *,
    data_file: Optional[Path] = None,
    sources: Optional[Sequence[Path]] = None,
) -> Path:
    rc_path.parent.mkdir(parents=True, exist_ok=True)
    rc_path.write_text(rc_text(config, project_rc, data_file=data_file, sources=sources), encoding="utf-8")
    return rc_path


def default_jobs(db: str) -> int:
    """How many of compare's runs go at a time: every core, but one on PostgreSQL, where every run
    would reset the same database."""
    return 1 if db == "postgres" else os.cpu_count() or 1
