"""Each pytest process that imports the conftest runs exactly one branch of announce()."""


def announce(worker):
    if worker == "gw0":
        seen = "gw0"  # gw0
    elif worker == "gw1":
        seen = "gw1"  # gw1
    else:
        seen = "controller"  # controller
    return seen
