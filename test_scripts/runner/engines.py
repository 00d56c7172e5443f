"""Which engine `--coverage` measures with: the fastest configuration compare showed exact here.

Standard library only: `prepare` checks `--coverage-config` on the system python3 before the venv.

Every engine is one of compare's configurations (test_scripts/compare/configs.py), so what the
runner runs is what compare measures against the truth (compare's `runner` configuration runs
exactly what `--coverage` picks for the default options). `EXACT` holds compare's verdicts per
Python: the configurations that lost and invented no line on the app (`compare api all`) and,
for the branch ones, gave the same branch figures as coverage's C tracer with thread,greenlet,
each with its wall time over the plain run. The choice:

* `--contexts` (which test ran each line): the C tracer, thread+greenlet. slipcover and the
  sys.monitoring core record no per-test contexts.
* branch coverage (the rc's `branch = True`, the default): the fastest exact branch configuration
  measured on this Python (slipcover/branch), else the C tracer.
* line coverage only (the rc says `branch = False`): the fastest exact line configuration
  (sysmon on 3.12+, slipcover on 3.11), else the C tracer.
* a Python compare has not measured: the C tracer with thread,greenlet, which is exact on every
  Python measured; `compare --python X.Y` measures the others.

`--coverage-config NAME` runs one of compare's configurations instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Tuple

from test_scripts.compare import configs as compare_configs

# Which configurations compare showed exact on the app, per Python: `./test_runner.py compare
# --configs slipcover,slipcover/branch,thread+greenlet/branch,runner --python 3.11,3.12,3.13`,
# 2026-11-21 (coverage 7.17.3, slipcover 1.1.0): 0 lost, 0 phantom, and slipcover/branch's
# branch figures equal to the C tracer's in every file; sysmon from the README's "Measured" run.
# The value is the wall time over the run without coverage, from COVERAGE_FACTS.md (12
# interleaved rounds of a 213-test suite of the same kind): it only orders the candidates.
# compare's own ratios on this 2-core machine, shared while it ran, were too noisy to use.
EXACT: Dict[Tuple[int, int], Dict[str, float]] = {
    (3, 11): {"slipcover/branch": 1.1, "slipcover": 1.1, "thread+greenlet/branch": 2.1, "thread+greenlet": 2.0},
    (3, 12): {
        "slipcover/branch": 1.1,
        "slipcover": 1.1,
        "sysmon": 1.05,
        "thread+greenlet/branch": 2.1,
        "thread+greenlet": 2.0,
    },
    (3, 13): {
        "slipcover/branch": 1.1,
        "slipcover": 1.1,
        "sysmon": 1.05,
        "thread+greenlet/branch": 2.1,
        "thread+greenlet": 2.0,
    },
}
C_TRACER = "thread+greenlet"
# Engines that record no per-test contexts.
NO_CONTEXTS = ("slipcover", compare_configs.SYSMON)


@dataclass(frozen=True)
class Engine:
    """A configuration of compare's to run `--coverage` with, and the line that says why."""

    config: str  # compare's name: "slipcover/branch", "thread+greenlet/branch", "project", ...
    reason: str

    @property
    def parsed(self) -> compare_configs.Config:
        [config] = compare_configs.parse_names(self.config)
        return config

    @property
    def is_slipcover(self) -> bool:
        return self.parsed.engine == "slipcover"

    @property
    def line(self) -> str:
        return f"coverage: {describe(self.config)} ({self.reason}); --coverage-config NAME to choose"


def describe(name: str) -> str:
    config = compare_configs.parse_names(name)[0]
    if config.is_project:
        return "coverage.py with .coveragerc as it is"
    what = {"slipcover": "slipcover", compare_configs.SYSMON: "coverage.py's sys.monitoring core"}.get(
        config.base, f"coverage.py's C tracer, concurrency {config.base.replace('+', ',')}"
    )
    return f"{what}, {'with branches' if config.branch else 'lines only'}"


def _short(python: Sequence[int]) -> str:
    return ".".join(map(str, python[:2]))


def choose(python: Sequence[int], *, branch: bool, contexts: bool) -> Engine:
    """The engine for `--coverage` on Python `python` (sys.version_info), with or without branches."""
    suffix = compare_configs.BRANCH_SUFFIX if branch else ""
    c_tracer = C_TRACER + suffix
    short = _short(python)
    if contexts:
        return Engine(c_tracer, "per-test contexts need the C tracer; slipcover and sys.monitoring record none")
    exact = EXACT.get(tuple(python[:2]))
    if exact is None:
        return Engine(c_tracer, f"compare has not measured Python {short}; `compare --python {short}` would")
    candidates = {
        name: ratio
        for name, ratio in exact.items()
        if compare_configs.parse_names(name)[0].branch == branch and name != c_tracer
    }
    if not candidates:
        return Engine(c_tracer, f"the only exact {'branch ' if branch else ''}configuration compare found on {short}")
    fastest = min(candidates, key=lambda name: (candidates[name], name))
    versus = f" vs {exact[c_tracer]:g}x for the C tracer" if c_tracer in exact else ""
    speed = f"about {candidates[fastest]:g}x the run without coverage{versus}"
    return Engine(fastest, f"exact per compare on {short}; {speed}")


def forced(name: str, python: Sequence[int], *, contexts: bool) -> Engine:
    """The engine `--coverage-config NAME` asks for; ValueError (one line) when it cannot run here."""
    if name not in forced_choices():
        choices = ", ".join(forced_choices())
        raise ValueError(f"--coverage-config: unknown configuration {name!r}; choose from {choices}")
    [config] = compare_configs.parse_names(name)
    reason = compare_configs.refusal(config, python) or compare_configs.skip_reason(config, python)
    if reason:
        raise ValueError(f"--coverage-config {name}: {reason}")
    if contexts and config.base in NO_CONTEXTS:
        raise ValueError(
            f"--contexts records which test ran each line, and {name} records no per-test contexts; "
            f"use --coverage-config {C_TRACER}{compare_configs.BRANCH_SUFFIX} (or leave it out)"
        )
    exact = EXACT.get(tuple(python[:2]), {})
    if config.is_project:
        verdict = "forced"
    elif name in exact:
        verdict = f"forced; exact per compare on {_short(python)}"
    else:
        verdict = f"forced; NOT shown exact by compare on {_short(python)}"
    return Engine(name, verdict)


def forced_choices() -> Tuple[str, ...]:
    """Every name `--coverage-config` takes: compare's configurations but `runner` (that is the default)."""
    names = []
    for base in compare_configs.BASES:
        if base == compare_configs.RUNNER:
            continue
        names.append(base)
        if base != compare_configs.PROJECT:
            names.append(base + compare_configs.BRANCH_SUFFIX)
    return tuple(names)


def engine_for(
    python: Sequence[int], *, branch: bool, contexts: bool, name: Optional[str] = None
) -> Engine:
    """`--coverage-config NAME` when given, else the automatic choice."""
    if name is not None:
        return forced(name, python, contexts=contexts)
    return choose(python, branch=branch, contexts=contexts)
