"""A decorator, a class body, and a method that is never called."""

import functools  # ran


def trace_calls(func):  # ran
    @functools.wraps(func)  # ran
    def wrapper(*args):  # ran
        wrapper.calls += 1  # ran
        return func(*args)  # ran

    wrapper.calls = 0  # ran
    return wrapper  # ran


@trace_calls  # ran
def double(value):  # ran
    return value * 2  # ran


class Box:  # ran
    """A class body runs at import; its methods only when called."""

    size = 3  # ran
    label = (  # ran
        "box"  # continuation
    )

    def grow(self):  # ran
        return self.size + 1  # ran

    def shrink(self):  # ran
        return self.size - 1  # not run


def run():  # ran
    return double(Box().grow())  # ran
