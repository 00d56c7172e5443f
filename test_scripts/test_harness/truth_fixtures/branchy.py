"""A branchy function called with one argument: the untaken branches must stay missing."""


def classify(number):  # ran
    if number < 0:  # ran
        return "negative"  # not run
    elif number == 0:  # ran
        return "zero"  # not run
    return "positive"  # ran


def never_called():  # ran
    return "never"  # not run


def run():  # ran
    return classify(5)  # ran
