"""A measured frame that switches directly into a child greenlet whose code is not measured."""

import greenlet  # ran

from test_scripts.test_harness.truth_fixtures.outside import childlib  # ran


def drive():  # ran
    parent = greenlet.getcurrent()  # ran
    worker = greenlet.greenlet(childlib.child)  # ran
    got = worker.switch(parent, 0)  # ran
    after_first = got + 1  # ran
    got = worker.switch(after_first)  # ran
    after_second = got + 1  # ran
    got = worker.switch(after_second)  # ran
    after_finish = got + 1  # ran
    return after_finish  # ran


def run():  # ran
    result = drive()  # ran
    return result  # ran
