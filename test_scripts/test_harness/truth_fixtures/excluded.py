"""Lines excluded by a pragma and by the test's exclude_also are not statements at all."""


def run():  # ran
    value = 1  # ran
    if value > 5:  # pragma: no cover
        value = 0  # excluded
    if value < 0:  # ran
        raise AssertionError("negative")  # excluded by exclude_also
    return value  # ran


def debug_only():  # pragma: no cover
    return "debug"  # excluded
