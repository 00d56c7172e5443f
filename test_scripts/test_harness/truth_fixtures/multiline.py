"""A statement over several lines counts once, on its first line, as coverage counts it."""


def combine(*parts):  # ran
    return "-".join(parts)  # ran


def run():  # ran
    joined = combine(  # ran
        "a",  # continuation
        "b",  # continuation
        "c",  # continuation
    )
    if joined == "never":  # ran
        joined = combine(  # not run
            "x",  # continuation
        )
    return joined  # ran
