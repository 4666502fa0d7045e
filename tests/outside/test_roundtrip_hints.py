"""Round-trip hints PostgreSQL accepts: a key index goes with its constraint, an owned sequence with its column."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from outside_support import PROJECTS, write

from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.migrations.roundtrip import round_trip

REVISION = '''
"""{rev}"""

import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down}


def upgrade() -> None:
    {up}


def downgrade() -> None:
    {down_body}
'''


def _project(
    tmp_path: Path, monkeypatch_path: Callable[[str], None], revisions: list[tuple[str, str, str]]
) -> Settings:
    root = tmp_path / "hints"
    shutil.copytree(PROJECTS / "empty", root, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch_path(str(root))
    down = "None"
    for rev, up, down_body in revisions:
        write(
            root / "migrations" / "versions" / f"{rev}.py",
            REVISION.format(rev=rev, down=down, up=up, down_body=down_body),
        )
        down = f'"{rev}"'
    return Settings(root=root, alembic_ini=root / "alembic.ini", metadata="empty_app.models:metadata", database="hints")


def test_leftover_serial_column_and_primary_key(
    tmp_path: Path, monkeypatch: object, new_database: Callable[[str], URL]
) -> None:
    """One finding for the column (its sequence goes with it); the key's index is dropped with the constraint."""
    settings = _project(
        tmp_path,
        monkeypatch.syspath_prepend,  # type: ignore[attr-defined]
        [
            ("h1", 'op.create_table("t", sa.Column("id", sa.Integer, nullable=False))', 'op.drop_table("t")'),
            (
                "h2",
                'op.add_column("t", sa.Column("n", sa.Integer, sa.Identity()))\n'
                '    op.execute("ALTER TABLE t ADD COLUMN s serial")',
                'op.drop_column("t", "n")',
            ),
            ("h3", 'op.create_primary_key("t_pkey", "t", ["id"])', 'op.execute("SELECT 1")'),
        ],
    )
    found = round_trip(settings, new_database("o_hints"))
    lines = [f"{f.object}: {f.message} | {f.hint}" for f in found]
    assert not any("sequence" in line for line in lines), lines
    assert any(
        f.object == "h2" and "column t.s" in f.message and "op.drop_column('t', 's')" in f.hint for f in found
    ), lines
    h3 = [f for f in found if f.object == "h3"]
    assert h3 and not any("op.drop_index('t_pkey')" in f.hint for f in h3), lines
    assert any("constraint t.t_pkey" in f.message and "op.drop_constraint('t_pkey', 't')" in f.hint for f in h3), lines
