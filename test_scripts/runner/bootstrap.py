"""Build the project's virtual environment from Pipfile.lock and keep it in step with the lock.

Standard library only: this runs on the system python3, before any virtual environment exists.

`ensure_venv(python, venv_dir)` is the entry point (a later `compare --python 3.12` reuses it with
`.venv-3.12`). It reads a stamp we write into the venv, `covref-stamp.json`: the sha256 of
Pipfile.lock's bytes, the lock's own `_meta.hash.sha256`, and the version and implementation of the
venv's Python. Then:

    no venv                      create it, install the lock, stamp it
    a venv we did not stamp      adopt it (write the stamp) if its Python is the one asked for and
                                 its installed distributions are exactly the lock's; else recreate it
    stamp names another Python   recreate it
    stamp names another lock     re-sync in place: install the lock, uninstall what it no longer lists
    stamp matches                nothing; return at once (no subprocess is started)

Installing uses `pipenv sync --dev` when pipenv is on PATH, else pip with the lock's hashes:
`pip install --require-hashes --no-deps -r requirements-lock.txt`, a file we generate from the
`default` and `develop` sections. Either way we compare what got installed with the lock before we
write the stamp, so a stamp always means "this venv was checked against this lock".
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCK_FILE = PROJECT_DIR / "Pipfile.lock"
DEFAULT_VENV_DIR = PROJECT_DIR / ".venv"
VENV_ENV_VAR = "COVREF_VENV"
STAMP_NAME = "covref-stamp.json"
REQUIREMENTS_NAME = "requirements-lock.txt"
MIN_PYTHON = (3, 11)
LOCK_SECTIONS = ("default", "develop")
# `python -m venv` seeds these itself; the lock does not list them and a venv needs pip.
SEED_PACKAGES = frozenset({"pip", "setuptools", "wheel"})
# pip and pipenv put the reason for a failure at the end of their output.
TAIL_LINES = 25

Log = Callable[[str], None]


class BootstrapError(Exception):
    """The venv could not be made ready: str() is one line for the person, `tail` a tool's output."""

    def __init__(self, message: str, tail: str = "") -> None:
        super().__init__(message)
        self.tail = tail


class VenvState(enum.Enum):
    ABSENT = "absent"  # no Python in the venv directory
    UNSTAMPED = "unstamped"  # a venv we did not stamp (made by hand, or a sync that did not finish)
    OTHER_PYTHON = "other-python"
    STALE_LOCK = "stale-lock"
    CURRENT = "current"


class PythonInfo(NamedTuple):
    executable: str
    version: str  # "3.11.7"
    implementation: str  # "cpython"

    @property
    def version_tuple(self) -> Tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))


class VenvDiff(NamedTuple):
    """How a venv's distributions differ from the lock; each entry is a sentence fragment."""

    missing: List[str]
    wrong_version: List[str]
    extra: List[str]  # canonical names, so they can be handed to `pip uninstall`

    def problems(self) -> List[str]:
        return (
            [f"{name} is missing" for name in self.missing]
            + self.wrong_version
            + [f"{name} is installed but not in the lock" for name in self.extra]
        )


def _stderr_log(message: str) -> None:
    print(f"test_runner.py: {message}", file=sys.stderr, flush=True)


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: `zope.event`, `Zope_Event` and `zope-event` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def venv_dir_from_env(environ: Mapping[str, str] = os.environ) -> Path:
    """`.venv`, or `$COVREF_VENV` (relative to the project) so other Pythons can have their own."""
    value = environ.get(VENV_ENV_VAR, "")
    if not value:
        return DEFAULT_VENV_DIR
    return Path(os.path.abspath(PROJECT_DIR / Path(value).expanduser()))


def venv_python(venv_dir: Path) -> Path:
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def running_in(venv_dir: Path, prefix: str = sys.prefix) -> bool:
    """Whether the current interpreter is the venv's own (then there is nothing to bootstrap)."""
    try:
        return Path(prefix).resolve() == venv_dir.resolve()
    except OSError:
        return False


def display_path(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


# --- the lock ---------------------------------------------------------------------------------


def read_lock(lock_path: Path) -> Tuple[dict, str]:
    """The parsed lock and the sha256 of its bytes."""
    try:
        data = lock_path.read_bytes()
    except OSError as exc:
        raise BootstrapError(f"cannot read {lock_path} ({exc.strerror or exc}); the venv is built from it") from None
    try:
        lock = json.loads(data)
    except ValueError as exc:
        raise BootstrapError(f"{lock_path} is not valid JSON ({exc}); regenerate it with `pipenv lock`") from None
    if not isinstance(lock, dict):
        raise BootstrapError(f"{lock_path} is not a Pipfile.lock (its top level is not an object)")
    return lock, hashlib.sha256(data).hexdigest()


def _union(first: Sequence[str], second: Sequence[str]) -> List[str]:
    return sorted(set(first) | set(second))


def _or_markers(first: str, second: str) -> str:
    """Markers of one package listed in both sections: it is needed wherever either applies."""
    if not first or not second:
        return ""
    if first == second:
        return first
    return f"({first}) or ({second})"


def locked_packages(lock: Mapping, sections: Sequence[str] = LOCK_SECTIONS) -> Dict[str, dict]:
    """The entries of `sections` (default: `default` and `develop`) merged by canonical name.

    A package in both sections (greenlet, typing-extensions, ... here) becomes one entry: the
    versions must agree, hashes and extras are united, markers or-ed. Entries pip cannot install
    with --require-hashes (not pinned with ==, no hashes: editable or VCS entries) are refused.
    """
    merged: Dict[str, dict] = {}
    for section in sections:
        entries = lock.get(section) or {}
        if not isinstance(entries, dict):
            raise BootstrapError(f"Pipfile.lock: [{section}] is not an object")
        for name, entry in entries.items():
            version = entry.get("version") or ""
            if not version.startswith("=="):
                raise BootstrapError(
                    f"Pipfile.lock: {name} in [{section}] is not pinned with == (version: {version or 'none'}); "
                    "only pinned, hashed entries can be installed with --require-hashes"
                )
            hashes = entry.get("hashes") or []
            if not hashes:
                raise BootstrapError(f"Pipfile.lock: {name} in [{section}] has no hashes; re-lock with `pipenv lock`")
            package = {
                "name": name,
                "version": version,
                "hashes": sorted(set(hashes)),
                "extras": sorted(set(entry.get("extras") or [])),
                "markers": entry.get("markers") or "",
            }
            key = canonical_name(name)
            known = merged.get(key)
            if known is None:
                merged[key] = package
                continue
            if known["version"] != version:
                raise BootstrapError(
                    f"Pipfile.lock pins {name} to {known['version']} in [default] and {version} in [{section}]; "
                    "re-lock with `pipenv lock`"
                )
            known["hashes"] = _union(known["hashes"], package["hashes"])
            known["extras"] = _union(known["extras"], package["extras"])
            known["markers"] = _or_markers(known["markers"], package["markers"])
    return merged


def requirement_lines(lock: Mapping, sections: Sequence[str] = LOCK_SECTIONS) -> List[str]:
    """One `name[extras]==version; markers --hash=sha256:...` line per locked package, sorted.

    This is the format `pipenv requirements --dev --hash` writes. No index options: pip's own
    configuration decides where the files come from, and the hashes decide whether they are right.
    """
    lines = []
    for _, package in sorted(locked_packages(lock, sections).items()):
        extras = f"[{','.join(package['extras'])}]" if package["extras"] else ""
        markers = f"; {package['markers']}" if package["markers"] else ""
        hashes = " ".join(f"--hash={digest}" for digest in package["hashes"])
        lines.append(f"{package['name']}{extras}{package['version']}{markers} {hashes}")
    return lines


# --- the stamp --------------------------------------------------------------------------------


def wanted_stamp(lock: Mapping, lock_sha256: str, python: PythonInfo) -> Dict[str, str]:
    meta_hash = ((lock.get("_meta") or {}).get("hash") or {}).get("sha256", "")
    return {
        "lock_sha256": lock_sha256,
        "lock_meta_sha256": meta_hash,
        "python_version": python.version,
        "python_implementation": python.implementation,
    }


def read_stamp(venv_dir: Path) -> Optional[dict]:
    try:
        stamp = json.loads((venv_dir / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def write_stamp(venv_dir: Path, stamp: Mapping[str, str]) -> None:
    (venv_dir / STAMP_NAME).write_text(json.dumps(dict(stamp), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def venv_state(venv_dir: Path, wanted: Mapping[str, str]) -> VenvState:
    """Where the venv stands against the stamp we want; no subprocess, so it is instant."""
    if not venv_python(venv_dir).exists():
        return VenvState.ABSENT
    stamp = read_stamp(venv_dir)
    if stamp is None:
        return VenvState.UNSTAMPED
    if (stamp.get("python_version"), stamp.get("python_implementation")) != (
        wanted["python_version"],
        wanted["python_implementation"],
    ):
        return VenvState.OTHER_PYTHON
    if stamp.get("lock_sha256") != wanted["lock_sha256"]:
        return VenvState.STALE_LOCK
    return VenvState.CURRENT


# --- looking at a venv ------------------------------------------------------------------------

# Run by the venv's own Python: which distributions it has, and which locked markers hold there.
# pip's vendored `packaging` evaluates the markers; a venv without pip does not match anyway.
_INSPECT_SCRIPT = r"""
import json, re, sys
from importlib import metadata
from pip._vendor.packaging.markers import Marker
markers = json.load(sys.stdin)
installed = {}
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if name:
        installed[re.sub(r"[-_.]+", "-", name).lower()] = dist.version
json.dump({
    "python_version": "%d.%d.%d" % sys.version_info[:3],
    "python_implementation": sys.implementation.name,
    "installed": installed,
    "applicable": sorted(name for name, marker in markers.items() if not marker or Marker(marker).evaluate()),
}, sys.stdout)
"""


def inspect_venv(python: Path, packages: Mapping[str, dict]) -> Optional[dict]:
    """What the venv at `python` holds, or None when its Python cannot tell us (a broken venv)."""
    markers = {name: package["markers"] for name, package in packages.items()}
    try:
        proc = subprocess.run(
            [str(python), "-I", "-c", _INSPECT_SCRIPT],
            input=json.dumps(markers),
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        return json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, ValueError):
        return None


def _release(version: str) -> Tuple[int, ...]:
    parts = [int(part) for part in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def same_version(installed: str, locked: str) -> bool:
    """`2.0` and `2.0.0` are one version; anything fancier must match exactly."""
    if installed == locked:
        return True
    if re.fullmatch(r"\d+(\.\d+)*", installed) and re.fullmatch(r"\d+(\.\d+)*", locked):
        return _release(installed) == _release(locked)
    return False


def diff_venv(report: Mapping, packages: Mapping[str, dict]) -> VenvDiff:
    """Compare an `inspect_venv` report with the lock."""
    installed: Mapping[str, str] = report["installed"]
    missing, wrong = [], []
    for name in report["applicable"]:
        locked = packages[name]["version"][2:]
        have = installed.get(name)
        if have is None:
            missing.append(name)
        elif not same_version(have, locked):
            wrong.append(f"{name} is {have}, the lock pins {locked}")
    extra = sorted(set(installed) - set(packages) - SEED_PACKAGES)
    return VenvDiff(missing, wrong, extra)


def _problems(python: Path, packages: Mapping[str, dict], info: PythonInfo) -> Tuple[List[str], Optional[VenvDiff]]:
    report = inspect_venv(python, packages)
    if report is None:
        return [f"{python} does not run or has no pip"], None
    if (report["python_version"], report["python_implementation"]) != (info.version, info.implementation):
        return [f"it has {report['python_implementation']} {report['python_version']}, not {info.version}"], None
    diff = diff_venv(report, packages)
    return diff.problems(), diff


# --- doing things -----------------------------------------------------------------------------


def _tail(output: str) -> str:
    return "\n".join(output.rstrip().splitlines()[-TAIL_LINES:])


def _run(cmd: Sequence[str], *, what: str, env: Optional[Mapping[str, str]] = None) -> str:
    """Run one step with its output captured; a failure raises with the output's tail."""
    try:
        proc = subprocess.run(
            list(cmd),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=None if env is None else dict(env),
            cwd=str(PROJECT_DIR),
        )
    except OSError as exc:
        raise BootstrapError(f"{what} failed: cannot run {cmd[0]} ({exc.strerror or exc})") from None
    if proc.returncode != 0:
        message = f"{what} failed with exit code {proc.returncode} (its output ends above)"
        raise BootstrapError(message, _tail(proc.stdout))
    return proc.stdout


def python_info(python: str) -> PythonInfo:
    """Version and implementation of `python` (a name on PATH or a path); no subprocess for ourselves."""
    executable = shutil.which(python)
    if executable is None:
        raise BootstrapError(f"{python}: no such Python (not a path, not on PATH)")
    try:
        if os.path.samefile(executable, sys.executable):
            return PythonInfo(sys.executable, "%d.%d.%d" % sys.version_info[:3], sys.implementation.name)
    except OSError:
        pass
    probe = "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3])); print(sys.implementation.name)"
    output = _run([executable, "-c", probe], what=f"asking {python} for its version")
    version, implementation = output.split()[:2]
    return PythonInfo(executable, version, implementation)


def _refuse_foreign(venv_dir: Path) -> None:
    """We only ever clear a directory that is a venv: COVREF_VENV could point anywhere."""
    if venv_dir.exists() and any(venv_dir.iterdir()) and not (venv_dir / "pyvenv.cfg").exists():
        raise BootstrapError(
            f"{venv_dir} exists and is not a virtual environment; "
            f"move it away or set {VENV_ENV_VAR} to another directory"
        )


def _create(info: PythonInfo, venv_dir: Path) -> None:
    _refuse_foreign(venv_dir)
    _run([info.executable, "-m", "venv", "--clear", str(venv_dir)], what=f"creating {display_path(venv_dir)}")


def _install(
    venv_dir: Path, packages: Mapping[str, dict], lock: Mapping, lock_path: Path, installer: str, log: Log
) -> None:
    shown = display_path(venv_dir)
    if installer == "pipenv":
        pipenv = shutil.which("pipenv") or "pipenv"
        env = dict(os.environ)
        # pipenv uses an activated venv (VIRTUAL_ENV) before its own choice; that is how
        # `.venv-3.12` works too. PIPENV_VENV_IN_PROJECT covers the default `.venv`.
        for name in ("PIPENV_ACTIVE", "PIPENV_IGNORE_VIRTUALENVS"):
            env.pop(name, None)
        env.update(
            PIPENV_VENV_IN_PROJECT="1",
            VIRTUAL_ENV=str(venv_dir),
            PIPENV_PIPFILE=str(lock_path.with_name("Pipfile")),
            PIPENV_VERBOSITY="-1",
            PIPENV_NOSPIN="1",
        )
        log(f"installing Pipfile.lock into {shown} with `pipenv sync --dev`")
        _run([pipenv, "sync", "--dev"], what="pipenv sync --dev", env=env)
        return
    requirements = venv_dir / REQUIREMENTS_NAME
    requirements.write_text("\n".join(requirement_lines(lock)) + "\n", encoding="utf-8")
    log(f"installing {len(packages)} packages from Pipfile.lock into {shown} with pip --require-hashes")
    _run(
        [
            str(venv_python(venv_dir)),
            "-m",
            "pip",
            "install",
            "--require-hashes",
            "--no-deps",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            str(requirements),
        ],
        what="pip install",
    )


def ensure_venv(
    python: str,
    venv_dir: Path,
    *,
    lock_path: Path = LOCK_FILE,
    installer: Optional[str] = None,
    log: Log = _stderr_log,
) -> Path:
    """Make `venv_dir` a venv of `python` that matches `lock_path`; return the venv's python.

    `installer` is "pipenv", "pip", or None for pipenv when it is on PATH and pip otherwise.
    Raises BootstrapError with one line (and pip's output tail) when that cannot be done.
    """
    info = python_info(python)
    if info.version_tuple[:2] < MIN_PYTHON:
        raise BootstrapError(
            f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; {info.executable} is {info.version}"
        )
    lock, lock_sha256 = read_lock(lock_path)
    packages = locked_packages(lock)
    wanted = wanted_stamp(lock, lock_sha256, info)
    state = venv_state(venv_dir, wanted)
    target = venv_python(venv_dir)
    shown = display_path(venv_dir)
    if state is VenvState.CURRENT:
        return target

    if state is VenvState.UNSTAMPED:
        problems, _ = _problems(target, packages, info)
        if not problems:
            log(f"adopting {shown}: it has Python {info.version} and exactly the packages of Pipfile.lock")
            write_stamp(venv_dir, dict(wanted, installer="adopted"))
            return target
        more = f" and {len(problems) - 1} more differences" if len(problems) > 1 else ""
        log(f"{shown} does not match Pipfile.lock ({problems[0]}{more}); recreating it with Python {info.version}")
        _create(info, venv_dir)
    elif state is VenvState.ABSENT:
        log(f"creating {shown} with Python {info.version} ({info.executable})")
        _create(info, venv_dir)
    elif state is VenvState.OTHER_PYTHON:
        old = read_stamp(venv_dir) or {}
        log(f"{shown} was made with Python {old.get('python_version')}, not {info.version}; recreating it")
        _create(info, venv_dir)
    else:
        log(f"Pipfile.lock changed since {shown} was synced; re-syncing it")
        # Without the stamp, an interrupted sync is noticed (and repaired) by the next run.
        (venv_dir / STAMP_NAME).unlink(missing_ok=True)

    used = installer or ("pipenv" if shutil.which("pipenv") else "pip")
    _install(venv_dir, packages, lock, lock_path, used, log)
    problems, diff = _problems(target, packages, info)
    if diff is not None and diff.extra:
        log(f"uninstalling what Pipfile.lock no longer lists: {', '.join(diff.extra)}")
        _run([str(target), "-m", "pip", "uninstall", "--yes", *diff.extra], what="pip uninstall")
        problems = diff._replace(extra=[]).problems()
    if problems:
        raise BootstrapError(f"{shown} does not match Pipfile.lock after {used} ran: {'; '.join(problems[:3])}")
    write_stamp(venv_dir, dict(wanted, installer=used))
    log(f"{shown} is ready")
    return target


# --- the image's requirements -----------------------------------------------------------------

# EX_DATAERR: the lock is missing, unreadable, or holds an entry pip cannot verify.
BAD_LOCK_EXIT = 65


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python bootstrap.py LOCK --section default --output FILE`: what backend/Dockerfile runs.

    The image gets the lock's application packages without pipenv, through the same
    `requirement_lines` that builds the project's venv; this file needs only the standard library.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="bootstrap.py", description="Write Pipfile.lock as hashed requirements.")
    parser.add_argument("lock", type=Path, nargs="?", default=Path("Pipfile.lock"), help="default: ./Pipfile.lock")
    parser.add_argument(
        "--section", dest="sections", action="append", choices=LOCK_SECTIONS, help="repeatable; default: both"
    )
    parser.add_argument("-o", "--output", type=Path, help="write here instead of to stdout")
    args = parser.parse_args(argv)
    sections = args.sections or LOCK_SECTIONS
    try:
        lock, _ = read_lock(args.lock)
        lines = requirement_lines(lock, sections)
        if not lines:  # an image without the application's packages would fail only when run
            names = " or ".join(f'"{section}"' for section in sections)
            raise BootstrapError(f"Pipfile.lock has no {names} packages; re-lock with `pipenv lock`")
        text = "".join(f"{line}\n" for line in lines)
    except BootstrapError as exc:
        sys.stderr.write(f"bootstrap.py: {exc}\n")
        return BAD_LOCK_EXIT
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
