"""A child greenlet body that lives outside the measured file, as SQLAlchemy's does."""


def child(parent, value):
    value = parent.switch(value + 1)
    value = parent.switch(value + 1)
    return value + 1
