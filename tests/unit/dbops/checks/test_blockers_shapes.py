"""B1/B2 on the shapes of real histories: only a schema change without its undo is a blocker."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dbops.checks.blockers import COMMENTED, DOWNGRADE, scan_file
from dbops.migrations.scripts import floor_revisions

HEAD = """
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = {down}
"""


def _file(tmp_path: Path, rev: str, upgrade: str, downgrade: str = "pass", down: str = "None", extra: str = "") -> Path:
    body = (
        HEAD.format(rev=rev, down=down)
        + extra
        + "\n\ndef upgrade():\n"
        + textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
        + "\n\n\ndef downgrade():\n"
        + textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")
        + "\n"
    )
    path = tmp_path / f"{rev}.py"
    path.write_text(body)
    return path


def _rules(path: Path, floor: frozenset[str] = frozenset()) -> list[str]:
    return [f.rule for f in scan_file(path, floor=floor)]


@pytest.mark.parametrize(
    "upgrade",
    [
        "pass",  # an empty first revision or a merge revision
        '"""Nothing to do."""',
        "op.execute(\"INSERT INTO plans (code) VALUES ('free')\")",  # data only
        "op.bulk_insert(sa.table('plans', sa.column('code')), [{'code': 'pro'}])",
        "op.execute(sa.table('plans', sa.column('code')).update().values(code='x'))",
    ],
)
def test_no_schema_change_needs_no_downgrade(tmp_path: Path, upgrade: str) -> None:
    """Merge, empty and data-only revisions with `downgrade(): pass` are not B2."""
    assert DOWNGRADE not in _rules(_file(tmp_path, "r1", upgrade))


@pytest.mark.parametrize(
    "upgrade",
    [
        "op.add_column('t', sa.Column('x', sa.Integer))",
        'op.execute("CREATE INDEX ix_t_x ON t (x)")',
        "op.execute(sa.text('ALTER TABLE t ADD COLUMN y int'))",
    ],
)
def test_schema_change_with_empty_downgrade_is_b2(tmp_path: Path, upgrade: str) -> None:
    """A schema change whose downgrade does nothing (or raises) is B2."""
    assert DOWNGRADE in _rules(_file(tmp_path, "r1", upgrade))
    assert DOWNGRADE in _rules(_file(tmp_path, "r2", upgrade, "raise NotImplementedError()"))


def test_commented_op_replaced_by_execute_is_not_b1(tmp_path: Path) -> None:
    """A commented-out op line directly followed by the op.execute that replaces it is deliberate."""
    replaced = "# op.alter_column('t', 'x', type_=sa.BigInteger)\nop.execute('ALTER TABLE t ALTER x TYPE bigint')"
    kept_off = "# op.alter_column('t', 'x', type_=sa.BigInteger)\nop.add_column('t', sa.Column('z', sa.Integer))"
    undo = "op.execute('ALTER TABLE t ALTER x TYPE int')"
    assert COMMENTED not in _rules(_file(tmp_path, "r1", replaced, undo))
    assert COMMENTED in _rules(_file(tmp_path, "r2", kept_off, "op.drop_column('t', 'z')"))


def test_floor_marker_and_setting(tmp_path: Path) -> None:
    """The marked revision and its ancestors are below the floor; B2 is not reported there."""
    r1 = _file(tmp_path, "r1", "op.create_table('t', sa.Column('id', sa.Integer))")
    r2 = _file(
        tmp_path, "r2", "op.add_column('t', sa.Column('x', sa.Integer))", down='"r1"', extra="# dbops: downgrade-floor"
    )
    r3 = _file(tmp_path, "r3", "op.add_column('t', sa.Column('y', sa.Integer))", down='"r2"')
    floor = frozenset(floor_revisions([r1, r2, r3]))
    assert floor == {"r1", "r2"}
    assert floor_revisions([r1, r2, r3], "r1") == {"r1", "r2"}  # the marker still counts
    assert floor_revisions([r1, r3], "r1") == {"r1"}
    assert [DOWNGRADE not in _rules(p, floor) for p in (r1, r2, r3)] == [True, True, False]


def test_commented_bulk_insert_replaced_by_insert(tmp_path: Path) -> None:
    """A commented op.bulk_insert followed by the INSERT that replaces it is not B1; followed by an UPDATE it is."""
    insert = "# op.bulk_insert(plans, [{'code': 'team'}])\nop.execute(\"INSERT INTO plans (code) VALUES ('team')\")"
    update = "# op.bulk_insert(plans, [{'code': 'team'}])\nop.execute(\"UPDATE plans SET code = 'team'\")"
    assert COMMENTED not in _rules(_file(tmp_path, "r1", insert))
    assert COMMENTED in _rules(_file(tmp_path, "r2", update))


@pytest.mark.parametrize(
    "upgrade",
    [
        # Airflow 0077 / 0033, MLflow c48cb773bb87 / 4465047574b1: the work is for another database.
        'if op.get_bind().dialect.name == "mysql":\n    op.alter_column("dag_code", "source_code", type_=sa.Text())',
        'conn = op.get_bind()\nif conn.dialect.name in ["sqlite", "mssql"]:\n    op.drop_index("ix_a")',
        'if op.get_bind().engine.name != "postgresql":\n    op.drop_index("ix_a")',
        'dialect_name = op.get_context().dialect.name\nif "mysql" == dialect_name:\n    op.drop_index("ix_a")\n'
        'elif dialect_name == "sqlite":\n    op.drop_index("ix_b")',
    ],
)
def test_schema_changes_only_for_other_databases_need_no_downgrade(tmp_path: Path, upgrade: str) -> None:
    assert _rules(_file(tmp_path, "0001", upgrade)) == []


@pytest.mark.parametrize(
    "upgrade",
    [
        'if op.get_bind().dialect.name == "postgresql":\n    op.drop_index("ix_a")',
        'if op.get_bind().dialect.name in ("mssql", "sqlite"):\n    return\nop.drop_index("ix_a")',  # Airflow 0118
        'if op.get_context().dialect.name == "sqlite":\n    pass\nelse:\n    op.drop_index("ix_a")',  # MLflow 0584bd
        'if op.get_bind().dialect.name == "mysql":\n    pass\nelif FLAG:\n    op.drop_index("ix_a")',
        'if op.get_bind().dialect.name == mysql_name():\n    op.drop_index("ix_a")',  # not a literal: may run
    ],
)
def test_schema_changes_that_run_on_postgresql_need_a_downgrade(tmp_path: Path, upgrade: str) -> None:
    assert _rules(_file(tmp_path, "0001", upgrade)) == [DOWNGRADE]


@pytest.mark.parametrize(
    "upgrade",
    [
        # Prefect's c8d5f2a71b3e: rebuild an index an earlier revision owns, if it went missing or invalid.
        'op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_occurred ON events (occurred)")',
        'index = op.get_bind().exec_driver_sql("SELECT 1").first()\n'
        'op.execute(f"REINDEX INDEX CONCURRENTLY {index[0]}")',
        'op.execute(f"UPDATE plans SET code = {CODE!r}")',
    ],
)
def test_repairs_and_data_in_f_strings_need_no_downgrade(tmp_path: Path, upgrade: str) -> None:
    assert _rules(_file(tmp_path, "0001", upgrade)) == []


@pytest.mark.parametrize(
    "upgrade",
    [
        'op.execute("CREATE INDEX ix_occurred ON events (occurred)")',
        'op.execute("CREATE INDEX IF NOT EXISTS ix_a ON a (x); DROP TABLE b")',  # more than the repair
        'op.execute(f"ALTER TABLE {TABLE} ADD COLUMN note text")',
        'op.execute(f"{VERB} TABLE x")',  # nothing to read: may change the schema
        "op.execute(\"ALTER TYPE state_type ADD VALUE IF NOT EXISTS 'CRASHED'\")",  # not a CREATE: its own label
    ],
)
def test_other_ddl_needs_a_downgrade(tmp_path: Path, upgrade: str) -> None:
    assert _rules(_file(tmp_path, "0001", upgrade)) == [DOWNGRADE]
