"""The dbops command on projects without [tool.dbops]: flags, the ini section, the guessed metadata, exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

from dbops.core.dburl import URL
from dbops.core.urls import plain_url

PROJECTS = Path(__file__).resolve().parent / "projects"
SRC = Path(__file__).resolve().parents[2] / "src"
DBOPS = Path(sys.executable).with_name("dbops")


def dbops(args: list[str], cwd: Path, url: URL, exe: Path = DBOPS) -> subprocess.CompletedProcess[str]:
    """Run the dbops command in ``cwd`` against the database ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    env["DATABASE_URL"] = plain_url(url)
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _copy(name: str, tmp_path: Path) -> Path:
    root = tmp_path / name
    shutil.copytree(PROJECTS / name, root, ignore=shutil.ignore_patterns("__pycache__"))
    assert not (root / "pyproject.toml").exists()
    return root


def test_flags_anywhere_and_dotted_metadata(tmp_path: Path, new_database: Callable[[str], URL]) -> None:
    """migrate then consistency with the flags after the task name; round trip on its own database."""
    root = _copy("multi_module", tmp_path)
    db = new_database("o_cmd")
    flags = ["--alembic-ini", "alembic.ini", "--metadata", "shop.models:Base.metadata"]
    run = dbops(["migrate", *flags], root, db)
    assert run.returncode == 0, run.stderr
    run = dbops(["consistency", *flags], root, db)
    assert run.returncode == 0 and "no findings" in run.stdout, run.stdout + run.stderr
    run = dbops(["round-trip", "--metadata=shop.models:Base.metadata"], root, db)
    assert run.returncode == 0 and "round trip clean" in run.stdout, run.stdout + run.stderr


def test_guessed_metadata_catches_drift(tmp_path: Path, new_database: Callable[[str], URL]) -> None:
    """Without any flag the metadata comes from env.py's target_metadata, and the drift is found (exit 1)."""
    root = _copy("broken_drift", tmp_path)
    db = new_database("o_cmd_drift")
    assert dbops(["migrate"], root, db).returncode == 0
    run = dbops(["consistency"], root, db)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "nickname" in run.stdout
    # Hints name the program the user ran.
    assert "dbops migrate.new" in run.stdout and "invoke" not in run.stdout


def test_ini_section_and_bad_flags(tmp_path: Path, new_database: Callable[[str], URL]) -> None:
    """--name picks the alembic.ini section; an unknown section and a bad metadata path are one line, exit 2."""
    root = _copy("two_sections", tmp_path)
    db = new_database("o_cmd_ts")
    for section, metadata in (("core", "ts_app.models:core"), ("tenant", "ts_app.models:tenant")):
        own = new_database(f"o_cmd_{section}")  # each environment keeps its own alembic_version
        assert dbops(["migrate", "--name", section], root, own).returncode == 0
        run = dbops(["consistency", "--name", section, "--metadata", metadata], root, own)
        assert run.returncode == 0 and "no findings" in run.stdout, run.stdout + run.stderr
    run = dbops(["blockers", "--name", "nope"], root, db)
    assert run.returncode == 2 and "has no [nope] section" in run.stderr and "Traceback" not in run.stderr
    run = dbops(["consistency", "--name", "tenant", "--metadata", "ts_app.models:Nope.metadata"], root, db)
    assert run.returncode == 2 and "has no attribute" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.skipif(
    not os.environ.get("DBOPS_TEST_FRESH_INSTALL"), reason="installs into a new venv: set DBOPS_TEST_FRESH_INSTALL=1"
)
def test_fresh_install_of_dbops_alone(tmp_path: Path, new_database: Callable[[str], URL]) -> None:
    """pip install of the dbops distribution alone (no billing dependencies) gives a working dbops command."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    # Built from a copy: setuptools writes build/ and *.egg-info next to the sources, not in our checkout.
    source = tmp_path / "dbops-dist"
    shutil.copytree(SRC / "dbops", source / "dbops", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SRC / "pyproject.toml", source / "pyproject.toml")
    pip = subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", str(source)], capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    listed = subprocess.run([str(env_dir / "bin" / "pip"), "list"], capture_output=True, text=True).stdout.lower()
    assert "fastapi" not in listed and "argon2" not in listed
    root = _copy("multi_module", tmp_path)
    db = new_database("o_fresh")
    exe = env_dir / "bin" / "dbops"
    assert dbops(["migrate", "--metadata", "shop.models:Base.metadata"], root, db, exe).returncode == 0
    run = dbops(
        ["consistency", "--alembic-ini", "alembic.ini", "--metadata", "shop.models:Base.metadata"], root, db, exe
    )
    assert run.returncode == 0 and "no findings" in run.stdout, run.stdout + run.stderr


def test_no_project_here_is_one_line(tmp_path: Path, new_database: Callable[[str], URL]) -> None:
    """In a folder with neither alembic.ini nor [tool.dbops], one line says what to pass (exit 2)."""
    run = dbops(["consistency"], tmp_path, new_database("o_cmd_none"))
    assert run.returncode == 2 and "no alembic.ini" in run.stderr and "--alembic-ini" in run.stderr
    assert "Traceback" not in run.stderr
