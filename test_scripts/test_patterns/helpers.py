"""Library code for the patterns: lives outside test_scripts/patterns, so it is not measured."""

from __future__ import annotations

import greenlet


def count_to_three(consumer: greenlet.greenlet) -> None:
    """A producer for `greenlet_switch.drain`: hand over 1, 2 and 3, one switch each."""
    for number in (1, 2, 3):
        consumer.switch(number)
