"""Support for the CLI tests: run invoke as a user would, in this checkout or in a small throwaway Alembic project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
INVOKE = [sys.executable, "-m", "invoke", "--search-root", str(REPO)]


@dataclass
class Run:
    """A finished command: its exit code and what it printed."""

    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        """Everything printed."""
        return self.out + self.err


def invoke(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 300, stdin: int | None = None
) -> Run:
    """Run ``invoke ARGS`` in ``cwd`` with extra environment ``env``; stdin is no terminal unless one is given."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    full.update(env or {})
    proc = subprocess.run(
        [*INVOKE, *args],
        cwd=cwd,
        env=full,
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


ENV_PY = """
from alembic import context
from sqlalchemy import create_engine
import models

def run():
    conn = context.config.attributes.get("connection")
    if conn is None:
        engine = create_engine(context.config.attributes["url"])
        conn = engine.connect()
    context.configure(connection=conn, target_metadata=models.metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()

run()
"""

REVISION = '''
"""{doc}"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down}


def upgrade() -> None:
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("{table}")
'''


def make_project(
    root: Path,
    *,
    revisions: list[tuple[str, str | None, str]] | None = None,
    models: str | None = None,
    pyproject_extra: str = "",
    alembic_ini: bool = True,
) -> Path:
    """A minimal Alembic project under ``root``: pyproject [tool.dbops], alembic.ini, env.py, revisions, models."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [project]
        name = "tiny"
        version = "0"
        [tool.dbops]
        metadata = "models:metadata"
        database = "tiny"
        {pyproject_extra}
    """)
    )
    if alembic_ini:
        (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "script.py.mako").write_text(
        '"""${message}"""\nrevision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n'
    )
    for rev, down, table in revisions if revisions is not None else [("r1", None, "things")]:
        (versions / f"{rev}.py").write_text(REVISION.format(doc=rev, rev=rev, down=repr(down), table=table))
    default = (
        '"""Models of the tiny project."""\n\nimport sqlalchemy as sa\n\nmetadata = sa.MetaData()\n'
        'things = sa.Table("things", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'
    )
    (root / "models.py").write_text(models if models is not None else default)
    return root


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    """A clean tiny project."""
    return make_project(tmp_path / "tiny")
