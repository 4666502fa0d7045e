"""A project on its own interpreter: SQLAlchemy 1.3, 1.4 or 2 and its driver in a venv of its own, env.py unchanged.

dbops runs from this checkout's environment (SQLAlchemy 2, psycopg 3) and reaches the project's code
only through the project's interpreter (``--python``): its migrations, its models' create_all, its
settings read at import. Nothing is installed into the project's venv (its packages are the same after).
``DBOPS_TEST_SQLALCHEMY`` picks one stack (the nox sessions ``outside(sqlalchemy=...)``); by default all run.
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

from dbops.core.dburl import URL
from dbops.core.urls import plain_url

PROJECTS = Path(__file__).resolve().parent / "projects"
DBOPS = Path(sys.executable).with_name("dbops")
SRC = Path(__file__).resolve().parents[2] / "src"
UV = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
# SQLAlchemy major -> (the Python it runs on, what is installed, the driver the project's URL names).
STACKS = {
    "1.3": ("3.10", ["sqlalchemy>=1.3,<1.4", "alembic<1.14", "psycopg2-binary"], "psycopg2"),
    "1.4": ("3.11", ["sqlalchemy>=1.4,<2", "alembic", "psycopg2-binary"], "psycopg2"),
    "2": ("3.12", ["sqlalchemy>=2,<3", "alembic", "psycopg[binary]"], "psycopg"),
}
CHOSEN = [os.environ["DBOPS_TEST_SQLALCHEMY"]] if os.environ.get("DBOPS_TEST_SQLALCHEMY") else list(STACKS)


@pytest.fixture(scope="session", params=CHOSEN, ids=[f"sqlalchemy-{major}" for major in CHOSEN])
def legacy_python(request: pytest.FixtureRequest) -> tuple[Path, str, str]:
    """(interpreter, SQLAlchemy major, driver) of a venv of the project's own, made once and kept between runs."""
    major: str = request.param
    if os.environ.get("DBOPS_TEST_PROJECT_VENVS") == "0":
        pytest.skip("DBOPS_TEST_PROJECT_VENVS=0: the projects' own venvs are tested once per CI run, not per cell")
    version, packages, driver = STACKS[major]
    base = Path(os.environ.get("DBOPS_TEST_VENVS") or Path.home() / ".cache" / "dbops-tests" / "venvs")
    tag = hashlib.sha256(f"{version}|{packages}".encode()).hexdigest()[:10]
    venv = base / f"sa{major.replace('.', '')}-{tag}"
    python = venv / "bin" / "python"
    if not python.exists():
        found = shutil.which(f"python{version}")
        assert found, f"python{version} is needed for the SQLAlchemy {major} project (see .ci/run's PYENV_VERSION)"
        building = venv.with_name(venv.name + f".tmp{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        subprocess.run([UV, "venv", "-q", "--python", found, str(building)], check=True)
        subprocess.run(
            [UV, "pip", "install", "-q", "--python", str(building / "bin" / "python"), *packages], check=True
        )
        building.rename(venv)  # the one rename: a half-made venv is never taken for a ready one
    return python, major, driver


def _freeze(python: Path) -> str:
    return subprocess.run([UV, "pip", "freeze", "--python", str(python)], capture_output=True, text=True).stdout


def _dbops(args: list[str], root: Path, url: URL, stack: tuple[Path, str, str]) -> subprocess.CompletedProcess[str]:
    python, _, driver = stack
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_", "VIRTUAL_ENV"))}
    # The project's own URL names its driver (psycopg2, say): dbops keeps it for the project's code.
    env["DATABASE_URL"] = plain_url(url.set(drivername=f"postgresql+{driver}"))
    flags = ["--python", str(python), "--metadata", "legacy_app.models:Base.metadata"]
    return subprocess.run([str(DBOPS), *args, *flags], cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "legacy_sa14"
    shutil.copytree(PROJECTS / "legacy_sa14", root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_every_task_on_the_projects_own_stack(
    tmp_path: Path, legacy_python: tuple[Path, str, str], new_database: Callable[[str], URL]
) -> None:
    """migrate, consistency and round-trip pass with the project's own SQLAlchemy and driver."""
    python, major, _ = legacy_python
    version = subprocess.run(
        [str(python), "-c", "import sqlalchemy; print(sqlalchemy.__version__)"], capture_output=True, text=True
    ).stdout
    assert version.startswith(f"{major}."), version
    root = _copy(tmp_path)
    before = _freeze(python)
    db = new_database("o_legacy")
    for task, expected in (("migrate", "is at 0002_notes"), ("consistency", "no findings"), ("round-trip", "clean")):
        run = _dbops([task], root, db, legacy_python)
        assert run.returncode == 0, f"{task}: {run.stdout}{run.stderr}"
        assert expected in run.stdout, f"{task}: {run.stdout}{run.stderr}"
    assert _freeze(python) == before  # dbops installed nothing into the project's environment


def test_a_drift_on_the_projects_own_stack_is_found(
    tmp_path: Path, legacy_python: tuple[Path, str, str], new_database: Callable[[str], URL]
) -> None:
    """A model column no migration creates: consistency names it, exit 1."""
    root = _copy(tmp_path)
    models = root / "legacy_app" / "models.py"
    models.write_text(models.read_text().replace("    body = ", "    title = sa.Column(sa.String(80))\n    body = "))
    run = _dbops(["consistency"], root, new_database("o_legacy_drift"), legacy_python)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "notes.title" in run.stdout


def test_the_pytest_plugin_in_a_sqlalchemy_14_environment(tmp_path: Path, new_database: Callable[[str], URL]) -> None:
    """dbops installed into a SQLAlchemy 1.4 project's test environment changes none of its pins, and its fixtures
    hand out databases and connections there (the project's own SQLAlchemy and psycopg2)."""
    if os.environ.get("DBOPS_TEST_PROJECT_VENVS") == "0":
        pytest.skip("DBOPS_TEST_PROJECT_VENVS=0: the projects' own venvs are tested once per CI run, not per cell")
    found = shutil.which("python3.11")
    assert found, "python3.11 is needed (see .ci/run's PYENV_VERSION)"
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    subprocess.run([UV, "venv", "-q", "--python", found, str(venv)], check=True)
    subprocess.run([UV, "pip", "install", "-q", "--python", str(python), *STACKS["1.4"][1], "pytest"], check=True)
    before = _freeze(python)
    source = tmp_path / "dbops-dist"  # built from a copy: setuptools writes build/ next to the sources
    shutil.copytree(SRC / "dbops", source / "dbops", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(SRC / "pyproject.toml", source / "pyproject.toml")
    subprocess.run([UV, "pip", "install", "-q", "--python", str(python), str(source)], check=True)
    after = _freeze(python)
    pins = [line for line in before.splitlines() if line.lower().startswith(("sqlalchemy==", "alembic==", "psycopg2"))]
    assert pins and all(pin in after.splitlines() for pin in pins), (pins, after)
    root = _copy(tmp_path)
    (root / "tests").mkdir()
    (root / "tests" / "test_db.py").write_text(
        "import sqlalchemy as sa\n\npytest_plugins = ['dbops.testing']\n\n\n"
        "def test_at_head(migrated_database, db_connection):\n"
        "    assert sa.__version__.startswith('1.4.')\n"
        "    assert {'accounts', 'notes'} <= set(sa.inspect(db_connection).get_table_names())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_", "VIRTUAL_ENV"))}
    env["DATABASE_URL"] = plain_url(new_database("o_plugin").set(drivername="postgresql+psycopg2"))
    env["DBOPS_METADATA"] = "legacy_app.models:Base.metadata"
    run = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout
