"""A child greenlet that switches back and forth with its parent, as SQLAlchemy's asyncio layer does."""

import greenlet  # ran


def child(parent):  # ran
    step = 1  # ran
    step = parent.switch(step)  # ran
    step += 10  # ran
    step = parent.switch(step)  # ran
    step += 100  # ran
    if step < 0:  # ran
        step = 0  # not run
    return step  # ran


def run():  # ran
    parent = greenlet.getcurrent()  # ran
    worker = greenlet.greenlet(child)  # ran
    got = worker.switch(parent)  # ran
    got = worker.switch(got + 1)  # ran
    got = worker.switch(got + 1)  # ran
    return got  # ran
