"""Find the interpreters `--python 3.11,3.12` names: pyenv's versions first, then pythonX.Y on PATH.

Standard library only: the runner resolves `--python` before it enters the venv, so a version that
is not installed is one line and exit USAGE, before anything is built or run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

VERSION_PATTERN = re.compile(r"\d+\.\d+(\.\d+)?")
# What we look for on PATH, and what the "found" line lists.
MINORS_ON_PATH = tuple(f"3.{minor}" for minor in range(11, 16))
PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"


@dataclass(frozen=True)
class Python:
    version: str  # "3.12.1"
    executable: str

    @property
    def short(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def version_tuple(self) -> Tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))


class PythonNotFound(LookupError):
    pass


def parse_versions(text: str) -> List[str]:
    """`3.11,3.12.1` -> ["3.11", "3.12.1"]; ValueError (one line) for anything else."""
    versions = [part.strip() for part in text.split(",") if part.strip()]
    bad = [version for version in versions if not VERSION_PATTERN.fullmatch(version)]
    if bad or not versions:
        raise ValueError(f"--python takes versions like 3.12 or 3.12.1, comma separated; got {text!r}")
    return list(dict.fromkeys(versions))


def _key(version: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def pyenv_root() -> Optional[Path]:
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = ""
    path = Path(root) if root else Path.home() / ".pyenv"
    return path if (path / "versions").is_dir() else None


def pyenv_pythons(root: Optional[Path]) -> Dict[str, str]:
    """{version: executable} of the CPython versions pyenv has installed (plain X.Y.Z names)."""
    found: Dict[str, str] = {}
    if root is None:
        return found
    for entry in sorted((root / "versions").iterdir()):
        if VERSION_PATTERN.fullmatch(entry.name) and entry.name.count(".") == 2:
            minor = ".".join(entry.name.split(".")[:2])
            for name in (f"python{minor}", "python3", "python"):
                executable = entry / "bin" / name
                if os.access(executable, os.X_OK):
                    found[entry.name] = str(executable)
                    break
    return found


def probe_version(executable: str) -> Optional[str]:
    """The X.Y.Z version of `executable`, or None if it does not run (a pyenv shim without a version)."""
    try:
        proc = subprocess.run([executable, "-c", PROBE], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    version = proc.stdout.strip()
    return version if proc.returncode == 0 and VERSION_PATTERN.fullmatch(version) else None


def path_pythons(minors: Sequence[str] = MINORS_ON_PATH) -> Dict[str, str]:
    """{version: executable} of pythonX.Y found on PATH and able to run."""
    found: Dict[str, str] = {}
    for minor in minors:
        executable = shutil.which(f"python{minor}")
        version = probe_version(executable) if executable else None
        if executable and version and version.startswith(minor + "."):
            found.setdefault(version, executable)
    return found


def matches(wanted: str, version: str) -> bool:
    return version == wanted or version.startswith(wanted + ".")


def find(wanted: Sequence[str], *, installed: Optional[Dict[str, str]] = None) -> List[Python]:
    """The newest installed interpreter for each wanted version, in the order asked.

    `installed` ({version: executable}) defaults to pyenv's versions, then pythonX.Y on PATH.
    Raises PythonNotFound with one line naming what is missing and what was found.
    """
    if installed is None:
        installed = {**path_pythons(), **pyenv_pythons(pyenv_root())}
    chosen: List[Python] = []
    missing: List[str] = []
    for version in wanted:
        candidates = sorted((v for v in installed if matches(version, v)), key=_key)
        if not candidates:
            missing.append(version)
            continue
        python = Python(candidates[-1], installed[candidates[-1]])
        if python not in chosen:
            chosen.append(python)
    if missing:
        shown = ", ".join(sorted((v for v in installed if _key(v) >= (3, 11)), key=_key)) or "none"
        raise PythonNotFound(
            f"Python {', '.join(missing)} not found (pyenv versions or python3.N on PATH); found: {shown}"
        )
    return chosen
