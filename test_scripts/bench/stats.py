"""The arithmetic of the benchmark: summaries of repeated timings, ratios, the interleaving order.

Standard library only, and pure: the harness tests feed it fake timings.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    """Repeated measurements of one thing: their median and their range."""

    median: float
    low: float
    high: float
    count: int

    def as_dict(self, digits: int = 4) -> dict[str, Any]:
        return {
            "median": round(self.median, digits),
            "min": round(self.low, digits),
            "max": round(self.high, digits),
            "n": self.count,
        }


def summarize(samples: Sequence[float]) -> Summary:
    """The median and min-max of `samples`; ValueError for none (a section that measured nothing)."""
    if not samples:
        raise ValueError("no samples to summarize")
    return Summary(statistics.median(samples), min(samples), max(samples), len(samples))


def ratio(value: float, baseline: float) -> float:
    """`value / baseline`: 2.0 means twice the baseline's time (or rate)."""
    if baseline <= 0:
        raise ValueError(f"a ratio needs a positive baseline, got {baseline!r}")
    return value / baseline


def paired_ratios(values: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """Round by round, each value over the baseline measured in the same round.

    Interleaved runs make neighbours: a configuration's run and the plain run of the same round
    saw the same machine, so their ratio is steadier than one of two medians taken apart.
    """
    if len(values) != len(baseline):
        raise ValueError(f"{len(values)} values against {len(baseline)} baseline runs: rounds must pair up")
    return [ratio(value, base) for value, base in zip(values, baseline)]


def interleaved(names: Sequence[str], rounds: int) -> list[tuple[int, str]]:
    """The order of the runs: every name once per round (A B C A B C ...), as (round, name).

    Interleaving spreads slow drifts of the machine (another job starting, a CPU warming up)
    over every configuration instead of charging them to whichever ran last.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be 1 or more, got {rounds!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"names repeat: {list(names)}")
    return [(round_, name) for round_ in range(1, rounds + 1) for name in names]
