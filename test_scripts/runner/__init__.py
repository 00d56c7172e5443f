"""The implementation of `./test_runner.py`: `bootstrap` makes the venv, `cli` runs the commands.

Both use the standard library only: they run on whatever python3 started the runner, before any
virtual environment exists. test_runner.py itself turns away a Python older than 3.11 first, in
syntax that any Python parses, so an old python3 gets a sentence rather than a SyntaxError.
"""
