"""compare: coverage per configuration, measured against the truth (issue 4).

    ./test_runner.py compare [CATEGORY [TARGET]] [--configs LIST] [--transport threaded|asgi]
                             [--db sqlite|postgres] [--python VERSIONS] [-j N]

One pytest run records the truth (``test_scripts.truth``, no coverage.py tracer), one runs without
coverage for the wall-time baseline, and one runs per coverage configuration, each in its own
process with its own rc file and data file. Every side is put through the same analysis (coverage's
own parser and reporting loop, ``test_scripts.truth.mapping``), so a difference is a line the
configuration lost (ran, reported missed) or invented (reported covered, never ran).

* ``configs``: the configurations by name and the rc file generated for each (standard library).
* ``pythons``: finding the interpreters of ``--python`` (standard library).
* ``run``: the runs, in parallel, and the whole command for one or several Pythons.
* ``analyze``: statements and executed lines per file (run on the interpreter that recorded them),
  then lost and phantom lines, percentages and the verdict.
* ``report``: the terminal table (rich) and reports/compare.md.
* ``probe``: a pytest plugin that records which core coverage really used.

This package's ``__init__`` imports nothing: the runner imports ``configs`` and ``pythons`` with the
standard library alone, before it enters the venv.
"""
