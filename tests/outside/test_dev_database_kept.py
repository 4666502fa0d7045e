"""Every migrating task changes only the database it means, whatever env.py does; a dev database keeps its rows."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from outside_support import make_stock_project

from dbops.core import database
from dbops.core.dburl import URL
from dbops.core.urls import plain_url, with_database

REPO = Path(__file__).resolve().parents[2]
TASKS = (
    ("migrate",),
    ("migrate.down", "--revision", "base"),
    ("reset-db", "--no-seed"),
    ("round-trip",),
    ("consistency", "--revision", "head"),
)
# The FastAPI full-stack template's shape: env.py builds its URL from the app's settings.
SETTINGS_ENV_LINES = '''
import os


def get_url() -> str:
    """The app's own database, as the app's settings name it."""
    return (
        f"postgresql+psycopg://{os.environ['POSTGRES_USER']}:{os.environ['POSTGRES_PASSWORD']}"
        f"@{os.environ['POSTGRES_SERVER']}:{os.environ['POSTGRES_PORT']}/{os.environ['POSTGRES_DB']}"
    )


config.set_main_option("sqlalchemy.url", get_url())
'''


def _invoke(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_", "POSTGRES_"))}
    full.update(env)
    cmd = [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args]
    return subprocess.run(cmd, cwd=cwd, env=full, capture_output=True, text=True, timeout=300)


def _dev_rows(url: URL) -> tuple[int, str]:
    with database.connect(url) as conn:
        rows = conn.execute("SELECT count(*) FROM notes").fetchone()
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert rows is not None and version is not None
    return int(rows[0]), str(version[0])


@pytest.mark.parametrize("shape", ["stock", "settings"])
def test_dev_database_survives_every_task(
    shape: str, tmp_path: Path, pg_server: URL, new_database: Callable[[str], URL]
) -> None:
    """The stock env.py is pointed at the intended database; one that opens its own is stopped, naming env.py."""
    dev = new_database("o_dev")
    root = tmp_path / f"proj_{shape}"
    make_stock_project(root, f"{shape}_app", plain_url(dev))
    if shape == "settings":
        env_py = root / "migrations" / "env.py"
        source = env_py.read_text()
        env_py.write_text(source.replace("config = context.config\n", "config = context.config\n" + SETTINGS_ENV_LINES))
    intended = f"o_intended_{shape}_{os.getpid()}"
    (root / "pyproject.toml").write_text(
        f'[tool.dbops]\nmetadata = "{shape}_app.models:metadata"\n'
        f'database = "{intended}"\ndisposable = ["{intended}"]\n'
    )
    env = {
        "DATABASE_URL": plain_url(with_database(pg_server, intended)),
        "POSTGRES_USER": dev.username or "",
        "POSTGRES_PASSWORD": dev.password or "",  # type: ignore[dict-item]
        "POSTGRES_SERVER": dev.host or "",
        "POSTGRES_PORT": str(dev.port),
        "POSTGRES_DB": dev.database or "",
    }
    # The developer's database, at head with rows, migrated the project's own way (alembic upgrade head).
    alembic = [sys.executable, "-m", "alembic", "upgrade", "head"]
    done = subprocess.run(alembic, cwd=root, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with database.connect(dev) as conn:
        conn.execute("INSERT INTO notes (body) VALUES ('keep me'), ('and me')")
    before = _dev_rows(dev)
    assert before == (2, "0001_notes")
    try:
        for args in TASKS:
            run = _invoke(args, root, env)
            text = run.stdout + run.stderr
            if shape == "stock":
                assert run.returncode == 0, (args, text)
            else:
                assert run.returncode == 2, (args, text)
                assert "env.py opened a database of its own" in text and 'config.attributes.get("connection")' in text
                assert "Traceback" not in text
            assert _dev_rows(dev) == before, args
    finally:
        database.drop(pg_server, intended, disposable=(intended,))
