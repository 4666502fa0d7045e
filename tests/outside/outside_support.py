"""Helpers shared by the outside tests: the stock `alembic init` project, unique names, file writing."""

from __future__ import annotations

import os
import re
import textwrap
import uuid
from pathlib import Path

from alembic import command
from alembic.config import Config

PROJECTS = Path(__file__).resolve().parent / "projects"

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


def write(path: Path, source: str) -> Path:
    """Write dedented source to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


def extensions_created(root: Path) -> list[str]:
    """The extensions a project's revisions create (``CREATE EXTENSION [IF NOT EXISTS] name``)."""
    found = {
        m.group(1)
        for path in root.rglob("*.py")
        for m in re.finditer(r"CREATE EXTENSION (?:IF NOT EXISTS )?\"?(\w+)", path.read_text(encoding="utf-8"))
    }
    return sorted(found)
