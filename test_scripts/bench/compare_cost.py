"""Section `compare`: what `compare` over six configurations costs, against one plain run.

Each round times one plain run of the API suite (no coverage) and then one whole compare of the
same suite on the same Python (`compare.run.compare_python`: the truth run, the plain run compare
makes itself, six configuration runs, `jobs` at a time, and the analysis), into a folder of
ours, so that the project's `reports/compare*.json` stay as compare last wrote them.

Why the target (<= 3x) is hard: compare cannot measure two configurations in one run, since a
process has one tracer, so its floor is the sum of its runs' wall times over the cores. We print
that sum beside the measured wall time: when the ratio misses, the sum says by how much any
scheduling could have helped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from test_scripts.bench.common import BenchError
from test_scripts.bench.stats import interleaved, paired_ratios, summarize
from test_scripts.compare import configs as compare_configs
from test_scripts.compare.pythons import Python
from test_scripts.compare.run import Options, Suite, compare_python, execute_one, plan_plain_run

# Six configurations, each valid on every Python the project supports: coverage's default, the
# two half-fixes, the exact C-tracer settings with and without branches, and slipcover.
CONFIGS = "thread,greenlet,thread+greenlet,thread+greenlet/branch,slipcover,slipcover/branch"
TARGET_RATIO = 3.0


def measure(
    *,
    python: Python,
    suite: Suite,
    rounds: int,
    work: Path,
    environ: Mapping[str, str],
    say: Callable[[str], None],
    jobs: int,
    config_names: str = CONFIGS,
) -> dict[str, Any]:
    """Time `rounds` plain runs of `suite` and as many compares over `config_names`, interleaved."""
    configs = tuple(compare_configs.parse_names(config_names))
    command = f"compare --configs {config_names}"
    options = Options(configs=configs, jobs=jobs, reports_dir=work / "reports", command=command)
    plain = plan_plain_run(suite, python.executable, work / "plain", environ)
    walls: dict[str, list[float]] = {"plain": [], "compare": []}
    run_sums: list[float] = []
    for round_, name in interleaved(["plain", "compare"], rounds):
        if name == "plain":
            finished = execute_one(plain, suite.project_dir)
            if finished.returncode != 0:
                raise BenchError(f"compare section: the plain run failed (exit {finished.returncode}); see {finished.log}")
            assert finished.wall_s is not None
            walls["plain"].append(finished.wall_s)
        else:
            begin = time.perf_counter()
            outcome = compare_python(suite, python, options, say=lambda message: None, environ=environ)
            walls["compare"].append(time.perf_counter() - begin)
            if outcome.result is None:
                names = ", ".join(run.name for run in outcome.failed)
                raise BenchError(f"compare section: compare's {names} run failed; see {outcome.work}")
            run_sums.append(_runs_wall_s(outcome.result))
        say(f"compare {python.short}: round {round_} {name}: {walls[name][-1]:.1f} s")
    ratio = summarize(paired_ratios(walls["compare"], walls["plain"]))
    floor = summarize(paired_ratios([total / jobs for total in run_sums], walls["plain"]))
    return {
        "python": python.version,
        "suite": suite.name,
        "db": suite.db,
        "rounds": rounds,
        "configs": [config.name for config in configs],
        "jobs": jobs,
        "wall_s": {name: summarize(values).as_dict(2) for name, values in walls.items()},
        "runs_wall_s": summarize(run_sums).as_dict(2),
        "ratio": ratio.as_dict(3),
        "floor_ratio": floor.as_dict(3),
    }


def _runs_wall_s(result: Mapping[str, Any]) -> float:
    """The wall times of every run compare made (truth, plain, configurations), added up."""
    total = float(result["truth_wall_s"]) + float(result["plain_wall_s"])
    for entry in result["configs"]:
        if not entry.get("skipped"):
            total += float(entry["wall_s"])
    return total
