"""A project on its own interpreter: SQLAlchemy 1.4 and psycopg2 in a venv of its own, env.py unchanged.

dbops runs from this checkout's environment (SQLAlchemy 2, psycopg 3) and reaches the project's code
only through the project's interpreter (``--python``): its migrations, its models' create_all, its
settings read at import. Nothing is installed into the project's venv (its packages are the same after).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from dbops.core.urls import plain_url

PROJECTS = Path(__file__).resolve().parent / "projects"
DBOPS = Path(sys.executable).with_name("dbops")
UV = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
LEGACY = ["sqlalchemy>=1.4,<2", "alembic", "psycopg2-binary"]


@pytest.fixture(scope="session")
def legacy_python() -> Path:
    """A venv with SQLAlchemy 1.4 and psycopg2 (no psycopg 3, no dbops), made once and kept between runs."""
    base = Path(os.environ.get("DBOPS_TEST_VENVS") or Path.home() / ".cache" / "dbops-tests" / "venvs")
    tag = hashlib.sha256(f"{sys.version_info[:2]}|{LEGACY}".encode()).hexdigest()[:10]
    venv = base / f"sa14-{tag}"
    python = venv / "bin" / "python"
    if not python.exists():
        building = venv.with_name(venv.name + f".tmp{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(building)], check=True)
        subprocess.run([UV, "pip", "install", "-q", "--python", str(building / "bin" / "python"), *LEGACY], check=True)
        building.rename(venv)  # the one rename: a half-made venv is never taken for a ready one
    return python


def _freeze(python: Path) -> str:
    return subprocess.run([UV, "pip", "freeze", "--python", str(python)], capture_output=True, text=True).stdout


def _dbops(args: list[str], root: Path, url: URL, python: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_", "VIRTUAL_ENV"))}
    # The project's own URL names its driver (psycopg2): dbops keeps it for the project's code.
    env["DATABASE_URL"] = plain_url(url.set(drivername="postgresql+psycopg2"))
    flags = ["--python", str(python), "--metadata", "legacy_app.models:Base.metadata"]
    return subprocess.run([str(DBOPS), *args, *flags], cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "legacy_sa14"
    shutil.copytree(PROJECTS / "legacy_sa14", root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_every_task_on_a_sqlalchemy_14_psycopg2_project(
    tmp_path: Path, legacy_python: Path, new_database: Callable[[str], URL]
) -> None:
    """migrate, consistency and round-trip pass with the project's own SQLAlchemy 1.4 and psycopg2."""
    version = subprocess.run(
        [str(legacy_python), "-c", "import sqlalchemy; print(sqlalchemy.__version__)"], capture_output=True, text=True
    ).stdout
    assert version.startswith("1.4."), version
    root = _copy(tmp_path)
    before = _freeze(legacy_python)
    db = new_database("o_legacy")
    for task, expected in (("migrate", "is at 0002_notes"), ("consistency", "no findings"), ("round-trip", "clean")):
        run = _dbops([task], root, db, legacy_python)
        assert run.returncode == 0, f"{task}: {run.stdout}{run.stderr}"
        assert expected in run.stdout, f"{task}: {run.stdout}{run.stderr}"
    assert _freeze(legacy_python) == before  # dbops installed nothing into the project's environment


def test_a_drift_in_a_sqlalchemy_14_project_is_found(
    tmp_path: Path, legacy_python: Path, new_database: Callable[[str], URL]
) -> None:
    """A model column no migration creates: consistency names it, exit 1."""
    root = _copy(tmp_path)
    models = root / "legacy_app" / "models.py"
    models.write_text(models.read_text().replace("    body = ", "    title = sa.Column(sa.String(80))\n    body = "))
    run = _dbops(["consistency"], root, new_database("o_legacy_drift"), legacy_python)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "notes.title" in run.stdout
