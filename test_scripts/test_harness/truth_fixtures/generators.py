"""A generator consumed only part way: the lines after the last yield taken never run."""


def countdown(start):  # ran
    current = start  # ran
    while current > 0:  # ran
        yield current  # ran
        current -= 1  # ran
    yield "liftoff"  # not run


def run():  # ran
    steps = countdown(3)  # ran
    taken = [next(steps), next(steps)]  # ran
    steps.close()  # ran
    return taken  # ran
