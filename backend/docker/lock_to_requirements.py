"""Write Pipfile.lock's "default" section as a pip requirements file that pins every hash.

    python lock_to_requirements.py Pipfile.lock --output requirements.txt
    pip install --require-hashes --no-deps -r requirements.txt

backend/Dockerfile runs this so that the image holds the application's packages and nothing
else, without installing pipenv to get them: one `name[extras]==version; markers --hash=...`
line per package, the format `pipenv requirements --hash` writes. The development packages
("develop") never reach the image. Standard library only: it runs on a bare Python image.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from enum import IntEnum
from pathlib import Path

SECTION = "default"


class ExitCode(IntEnum):
    OK = 0
    USAGE = 2  # argparse's own exit code for a wrong command line
    BAD_LOCK = 65  # EX_DATAERR: the lock is missing, unreadable, or holds an entry pip cannot verify


class LockError(Exception):
    """Pipfile.lock cannot be turned into a --require-hashes requirements file."""


def requirement_lines(lock: Mapping[str, object]) -> list[str]:
    """One pinned, hashed requirement line per package of the lock's "default" section, sorted."""
    packages = lock.get(SECTION)
    if not isinstance(packages, Mapping) or not packages:
        raise LockError(f'Pipfile.lock has no "{SECTION}" packages; re-lock with `pipenv lock`')
    lines = []
    for name, entry in sorted(packages.items()):
        version = entry.get("version") or ""
        if not version.startswith("=="):
            raise LockError(
                f"Pipfile.lock: {name} in [{SECTION}] is {version or 'not versioned'!r}, not pinned with ==; "
                "--require-hashes installs only pinned entries"
            )
        hashes = sorted(set(entry.get("hashes") or []))
        if not hashes:
            raise LockError(f"Pipfile.lock: {name} in [{SECTION}] has no hashes; re-lock with `pipenv lock`")
        extras = f"[{','.join(sorted(entry['extras']))}]" if entry.get("extras") else ""
        markers = f"; {entry['markers']}" if entry.get("markers") else ""
        lines.append(f"{name}{extras}{version}{markers} " + " ".join(f"--hash={digest}" for digest in hashes))
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lock_to_requirements.py", description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, nargs="?", default=Path("Pipfile.lock"), help="default: ./Pipfile.lock")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of to stdout")
    args = parser.parse_args(argv)
    try:
        try:
            lock = json.loads(args.lock.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LockError(f"cannot read {args.lock}: {exc}") from exc
        if not isinstance(lock, Mapping):
            raise LockError(f"{args.lock} is not a Pipfile.lock: its top level is not a JSON object")
        text = "".join(f"{line}\n" for line in requirement_lines(lock))
    except LockError as exc:
        sys.stderr.write(f"lock_to_requirements.py: {exc}\n")
        return ExitCode.BAD_LOCK
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return ExitCode.OK


if __name__ == "__main__":
    raise SystemExit(main())
