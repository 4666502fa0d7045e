"""Venvs of the real projects: one per project, installed from its pinned requirements with uv, made once per machine.

A venv is built under a scratch name and renamed when complete, so a half-made one (an interrupted
install, a parallel worker) is never taken for a ready one. Its name carries a hash of the Python
version and the pins: a changed pin makes a new venv.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

UV = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
DATA = Path(__file__).resolve().parent / "real"


def venv_root() -> Path:
    """Where the test venvs live (``DBOPS_TEST_VENVS``, else the user's cache)."""
    return Path(os.environ.get("DBOPS_TEST_VENVS") or Path.home() / ".cache" / "dbops-tests" / "venvs")


def project_python(name: str, version: str) -> Path:
    """The interpreter of the project's venv, built from ``real/NAME/requirements.txt`` if it is not there yet."""
    pins = (DATA / name / "requirements.txt").read_bytes()
    tag = hashlib.sha256(version.encode() + b"|" + pins).hexdigest()[:10]
    venv = venv_root() / f"real-{name}-{tag}"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    found = shutil.which(f"python{version}")
    if not found:
        raise RuntimeError(f"python{version} is needed for the {name} project (see .ci/run's PYENV_VERSION)")
    building = venv.with_name(f"{venv.name}.tmp{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([UV, "venv", "-q", "--relocatable", "--python", found, str(building)], check=True)
    subprocess.run(
        [
            UV,
            "pip",
            "install",
            "-q",
            "--python",
            str(building / "bin" / "python"),
            "-r",
            str(DATA / name / "requirements.txt"),
        ],
        check=True,
    )
    try:
        building.rename(venv)  # the one rename: a half-made venv is never taken for a ready one
    except OSError:
        if not python.exists():  # another worker finished first: its venv is as good as ours
            raise
        shutil.rmtree(building, ignore_errors=True)
    return python


if __name__ == "__main__":
    for project in sys.argv[1:]:
        print(project_python(project, "3.11"))
