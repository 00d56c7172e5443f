"""Section `overhead`: the API suite's wall time without coverage and under each compare configuration.

Per Python: the runs compare would make (`compare.run.plan_plain_run` and `plan_config_run`: the
same command lines, rc files and environment, slipcover's conversion into a coverage data file
included in its time), without the truth run, one at a time and interleaved round by round
(plain, thread, thread/branch, ..., plain, thread, ...). `runner` stands for the configuration
`--coverage` picks on that Python; when that one is in the list already it is not run twice. Each configuration's ratio is taken
against the plain run of the same round, then summarized over the rounds.

Whether a configuration is exact is compare's finding, not ours: we read it from
`reports/compare-<X.Y>.json` when compare has run on that Python (0 lost and 0 phantom lines),
and say "unknown" otherwise. The target (exact line and branch coverage at <= 1.15x) is then
checked on the fastest exact configuration of each kind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from test_scripts.bench.common import BenchError
from test_scripts.bench.stats import interleaved, paired_ratios, summarize
from test_scripts.compare import configs as compare_configs
from test_scripts.compare.pythons import Python
from test_scripts.compare.run import Suite, execute_one, plan_config_run, plan_plain_run

TEST_PATHS = ("test_scripts/test_api",)
PLAIN = "plain"
TARGET_RATIO = 1.15


def offered_configs(python: Python, names: str | None = None) -> list[compare_configs.Config]:
    """compare's configurations `names` (default: compare's default set) that can run on `python`."""
    return [
        config
        for config in compare_configs.parse_names(names)
        if compare_configs.refusal(config, python.version_tuple) is None
        and compare_configs.skip_reason(config, python.version_tuple) is None
    ]


def exactness(reports_dir: Path, python: Python) -> tuple[dict[str, dict[str, Any]], str | None]:
    """{config name: {"exact", "branch"}} from compare's result for this Python, and its file."""
    for name in (f"compare-{python.short}.json", "compare.json"):
        path = reports_dir / name
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if str(result.get("python", "")).split(".")[:2] != python.short.split("."):
            continue
        found = {}
        for entry in result.get("configs", []):
            if entry.get("skipped") or entry.get("lost") is None:
                continue
            found[entry["name"]] = {
                "exact": entry["lost"] == 0 and entry.get("phantom") == 0,
                "branch": bool(entry.get("branch")),
            }
        return found, name
    return {}, None


def measure_python(
    python: Python,
    *,
    suite: Suite,
    rounds: int,
    work: Path,
    reports_dir: Path,
    environ: Mapping[str, str],
    say: Callable[[str], None],
    config_names: str | None = None,
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    offered = [compare_configs.resolve_runner(config, python.version_tuple, suite.project_rc)
               for config in offered_configs(python, config_names)]  # fmt: skip
    names = {config.name for config in offered}
    same_as = {config.name: config.stands_for for config in offered if config.stands_for in names}
    configs = [config for config in offered if config.name not in same_as]
    runs = [plan_plain_run(suite, python.executable, work, environ)]
    runs += [plan_config_run(suite, python.executable, config, work / config.dirname, environ) for config in configs]
    by_name = {run.name: run for run in runs}
    walls: dict[str, list[float]] = {run.name: [] for run in runs}
    order = interleaved([run.name for run in runs], rounds)
    for index, (round_, name) in enumerate(order, 1):
        run = execute_one(by_name[name], suite.project_dir)  # its log holds the latest round
        if run.returncode != 0:
            raise BenchError(
                f"overhead {python.short}: the {name} run failed (exit {run.returncode}); see {run.log}"
            )
        assert run.wall_s is not None
        walls[name].append(run.wall_s)
        say(f"overhead {python.short}: [{index}/{len(order)}] round {round_} {name}: {run.wall_s:.1f} s")
    known, source = exactness(reports_dir, python)
    entries = {}
    for config in [None, *configs]:
        name = PLAIN if config is None else config.name
        entry: dict[str, Any] = {"wall_s": summarize(walls[name]).as_dict(2)}
        if config is not None:
            entry["ratio"] = summarize(paired_ratios(walls[name], walls[PLAIN])).as_dict(3)
            entry["about"] = config.about
            branch = compare_configs.rc_branch(suite.project_rc) if config.is_project else bool(config.branch)
            entry["branch"] = known.get(name, {}).get("branch", branch)
            entry["exact"] = known.get(name, {}).get("exact")
        entries[name] = entry
    return {
        "python": python.version,
        "suite": suite.name,
        "order": [name for _, name in order[: len(runs)]],
        "exactness_from": source,
        "configs": entries,
        "same_as": same_as,
        "fastest_exact": {kind: fastest_exact(entries, branch=kind == "branch") for kind in ("line", "branch")},
    }


def fastest_exact(entries: Mapping[str, Mapping[str, Any]], *, branch: bool) -> dict[str, Any] | None:
    """The exact configuration with the lowest median ratio that measures branches (or lines only)."""
    candidates = [
        (entry["ratio"]["median"], name)
        for name, entry in entries.items()
        if name != PLAIN and entry.get("exact") and bool(entry.get("branch")) == branch
    ]
    if not candidates:
        return None
    ratio, name = min(candidates)
    return {"name": name, "ratio": ratio}


def api_suite(project_dir: Path, db: str, db_env: Mapping[str, str]) -> Suite:
    """The API suite against the threaded server, as compare runs it with the project's rc file."""
    project_rc = project_dir / ".coveragerc"
    return Suite(
        project_dir=project_dir,
        project_rc=project_rc,
        sources=tuple(project_dir / source for source in compare_configs.rc_sources(project_rc)),
        test_paths=TEST_PATHS,
        name="api all",
        pytest_args=("--db", db, "--transport", "threaded"),
        db=db,
        transport="threaded",
        env=dict(db_env),
    )


def measure(
    *,
    pythons: Sequence[Python],
    db: str,
    db_env: Mapping[str, str],
    rounds: int,
    project_dir: Path,
    reports_dir: Path,
    work: Path,
    environ: Mapping[str, str],
    say: Callable[[str], None],
    config_names: str | None = None,
) -> dict[str, Any]:
    suite = api_suite(project_dir, db, db_env)
    return {
        "db": db,
        "rounds": rounds,
        "pythons": [
            measure_python(python, suite=suite, rounds=rounds, work=work / python.short, reports_dir=reports_dir,
                           environ=environ, say=say, config_names=config_names)
            for python in pythons
        ],
    }  # fmt: skip
