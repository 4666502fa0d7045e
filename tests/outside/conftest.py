"""Fixtures for the outside projects: a fresh copy of each, importable, and databases of its own."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from outside_cases import CASES, Case
from sqlalchemy.engine import URL

from dbops import database
from dbops.config import Settings

PROJECTS = Path(__file__).resolve().parent / "projects"
BY_NAME = {c.name: c for c in CASES}

STOCK_MODELS = '''
"""Models of a project set up with `alembic init`."""

import sqlalchemy as sa

metadata = sa.MetaData()
notes = sa.Table(
    "notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text, nullable=False)
)
'''
STOCK_REVISION = '''
"""notes"""

import sqlalchemy as sa
from alembic import op

revision = "0001_notes"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text, nullable=False))


def downgrade() -> None:
    op.drop_table("notes")
'''


def make_stock_project(root: Path, package: str, ini_url: str) -> None:
    """An `alembic init` project (Alembic's own generic template) whose alembic.ini names ``ini_url``."""
    (root / package).mkdir(parents=True)
    (root / package / "__init__.py").write_text("")
    (root / package / "models.py").write_text(STOCK_MODELS.lstrip())
    cfg = Config(str(root / "alembic.ini"))
    command.init(cfg, str(root / "migrations"), template="generic")
    ini = (root / "alembic.ini").read_text()
    ini = ini.replace("driver://user:pass@localhost/dbname", ini_url.replace("%", "%%"))
    (root / "alembic.ini").write_text(ini)
    env = (root / "migrations" / "env.py").read_text()
    # The one line every user edits in the generated env.py.
    env = env.replace("target_metadata = None", f"from {package}.models import metadata\ntarget_metadata = metadata")
    (root / "migrations" / "env.py").write_text(env)
    (root / "migrations" / "versions" / "0001_notes.py").write_text(STOCK_REVISION.lstrip())


def unique(prefix: str) -> str:
    """A database name of this worker's own."""
    return f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def new_database(pg_server: URL) -> Iterator[Callable[[str], URL]]:
    """new_database(prefix): create an empty database, dropped after the test."""
    made: list[str] = []

    def create(prefix: str) -> URL:
        name = unique(prefix)
        made.append(name)
        return database.create(pg_server, name)

    yield create
    for name in made:
        database.drop(pg_server, name, disposable=(name,))


@pytest.fixture()
def outside_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], tuple[Case, Settings]]:
    """outside_project(name): a fresh copy of the project, on sys.path, and its dbops Settings."""

    def load(name: str) -> tuple[Case, Settings]:
        case = BY_NAME[name]
        root = tmp_path / name
        if name == "stock":
            make_stock_project(root, "stock_app", "postgresql+psycopg://nobody@localhost:1/not_configured")
        else:
            shutil.copytree(PROJECTS / case.folder, root, ignore=shutil.ignore_patterns("__pycache__"))
        monkeypatch.syspath_prepend(str(root))
        settings = Settings(
            root=root, alembic_ini=root / "alembic.ini", metadata=case.metadata, database=name, **case.settings
        )
        return case, settings

    return load


def write(path: Path, source: str) -> Path:
    """Write dedented source to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path
