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
from outside_support import make_stock_project, write

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


def test_models_that_do_not_build_are_not_blamed_on_the_history(
    tmp_path: Path, new_database: Callable[[str], URL]
) -> None:
    """create_all failing on PostgreSQL: the rules that compare are not checked (exit 1), the history is not blamed."""
    root = _copy("models_unbuildable", tmp_path)
    run = dbops(["consistency", "--metadata", "mu_app.models:metadata"], root, new_database("o_cmd_mu"))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not checked: C1-model-table: the models could not be built: building the models (create_all) failed: " in (
        run.stdout
    )
    assert 'failed: index ix_notes_key on notes: relation "ix_notes_key" already exists' in run.stdout  # the model
    assert "C6-history" not in run.stdout and "the history does not apply" not in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_a_revision_that_raises_is_named_and_the_history_does_not_apply(
    tmp_path: Path, new_database: Callable[[str], URL]
) -> None:
    """A revision's own bug (not SQL): where the history stopped and the file and line, exit 1 as for any failing
    migration; the file is named even when the history is installed (outside the project's folder)."""
    root = tmp_path / "project"
    make_stock_project(root, "stock_app", "postgresql+psycopg://nobody@localhost:1/not_configured")
    installed = tmp_path / "site" / "stock_history"  # the history as a package would ship it
    shutil.move(root / "migrations", installed)
    ini = root / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(f"script_location = {root / 'migrations'}", f"script_location = {installed}")
    )
    write(
        installed / "versions" / "0002_broken.py",
        '''
        """a revision with a bug of its own"""

        import datetime

        revision = "0002_broken"
        down_revision = "0001_notes"


        def upgrade() -> None:
            datetime.datetime.now()._replace(microsecond=0)


        def downgrade() -> None:
            pass
        ''',
    )
    run = dbops(["migrate", "--metadata", "stock_app.models:metadata"], root, new_database("o_cmd_raise"))
    assert run.returncode == 1, run.stdout + run.stderr
    # The generated env.py runs every revision in one transaction: all of it is rolled back.
    assert "upgrade to head failed after revision base: AttributeError: " in run.stderr
    assert "(at 0002_broken.py:10)" in run.stderr and "Traceback" not in run.stderr


def test_a_lock_held_by_a_session_of_the_projects_own_names_it(
    tmp_path: Path, new_database: Callable[[str], URL]
) -> None:
    """A revision leaves its own session in a transaction: the next ALTER gives up after lock_timeout, and the
    line says who held the lock (a connection left idle in a transaction) and what to do."""
    root = tmp_path / "own_session"
    shutil.copytree(PROJECTS / "own_session", root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text('[tool.dbops]\nmetadata = "os_app.models:metadata"\nlock_timeout = 1\n')
    run = dbops(["migrate"], root, new_database("o_cmd_lock"))
    assert run.returncode == 1, run.stdout + run.stderr
    line = run.stderr.strip()
    assert line.startswith("error: upgrade to head failed after revision 0002_count: ")
    assert "lock timeout (at migrations/versions/0003_title.py:11)" in line
    assert "it waited lock_timeout (1 s) for a lock held by a connection to this database left idle in a " in line
    assert "one the project's own code opened" in line and "commit and close it" in line
