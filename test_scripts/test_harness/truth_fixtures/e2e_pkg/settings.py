"""Imported by the conftest: its module-level lines run before any test is collected."""

import os  # ran

DEFAULTS = {"a": 1, "b": 2}  # ran
NAME = os.environ.get("E2E_NAME", "e2e")  # ran


class Registry:  # ran
    entries = dict(DEFAULTS)  # ran

    def lookup(self, key):  # ran
        return self.entries[key]  # ran

    def forget(self, key):  # ran
        del self.entries[key]  # not run


def lookup(key):  # ran
    return Registry().lookup(key)  # ran
