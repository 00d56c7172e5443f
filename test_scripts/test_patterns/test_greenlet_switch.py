from __future__ import annotations

from test_scripts.patterns.greenlet_switch import Batch, drain
from test_scripts.test_patterns.helpers import count_to_three


def test_drain_takes_every_item_the_producer_hands_over() -> None:
    assert drain(count_to_three, limit=10) == Batch(items=[1, 2, 3], total=6)


def test_drain_stops_at_the_limit() -> None:
    assert drain(count_to_three, limit=2) == Batch(items=[1, 2], total=3)
