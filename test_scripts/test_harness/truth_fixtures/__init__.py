"""Modules whose executed lines are known exactly, marked line by line for the truth tests.

Every line that coverage.py could count as a statement ends in ``# ran`` or ``# not run``: what a
correct recorder must report when the module is loaded and its ``run()`` is called once. Modules
here are loaded fresh by the tests (never imported under their package name), so their
module-level lines run while the recorder watches.
"""
