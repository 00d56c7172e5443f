"""An exception handler: the matching clause runs, the others and the else do not."""


def fail():  # ran
    raise ValueError("boom")  # ran


def handle():  # ran
    try:  # ran
        fail()  # ran
    except KeyError:  # ran
        outcome = "key"  # not run
    except ValueError as error:  # ran
        outcome = str(error)  # ran
    else:
        outcome = "none"  # not run
    finally:
        cleaned = True  # ran
    return outcome, cleaned  # ran


def run():  # ran
    return handle()  # ran
