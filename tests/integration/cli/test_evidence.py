"""No verdict without evidence: a task that could not look says so and fails; what it says happened, happened.

Each test runs whole commands on a small project shaped the way real projects break dbops: no revision
to walk, an env.py that opens its own engine on the intended database (with its own search_path), an
env.py written for an Engine, a broken history under `status`, an env.py that connects to a server
that is not there, models whose metadata is missing the tables they point at.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cli_support import invoke, make_project

from dbops.core import database
from dbops.core.dburl import URL
from dbops.core.urls import libpq_url, plain_url

# env.py that ignores the connection dbops hands over and opens its own engine from DATABASE_URL, with a
# search_path of its own: its version table lives in schema app (the project's convention).
OWN_ENGINE_ENV_PY = """
import os
from alembic import context
from sqlalchemy import create_engine, pool, text
import models

engine = create_engine(
    os.environ["DATABASE_URL"], poolclass=pool.NullPool, connect_args={"options": "-csearch_path=app,public"}
)
with engine.connect() as connection:
    connection.execute(text("CREATE SCHEMA IF NOT EXISTS app"))
    connection.commit()
    context.configure(connection=connection, target_metadata=models.metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""

PUBLIC_REVISION = '''
"""{rev}"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down}


def upgrade() -> None:
    op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True), schema="public")


def downgrade() -> None:
    op.drop_table("{table}", schema="public")
'''

TWO_TABLES = (
    '"""Models."""\n\nimport sqlalchemy as sa\n\nmetadata = sa.MetaData()\n'
    'things = sa.Table("things", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'
    'stuff = sa.Table("stuff", metadata, sa.Column("id", sa.Integer, primary_key=True))\n'
)

# pytest-alembic's convention: .connect() on whatever the caller handed over; its own version table.
ENGINE_STYLE_ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool
import models

config = context.config
connectable = config.attributes.get("connection", None)
if connectable is None:
    connectable = engine_from_config(config.get_section(config.config_ini_section), poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=models.metadata, version_table="ea_version")
    with context.begin_transaction():
        context.run_migrations()
"""

# env.py that connects to a server of its own, which is not there; its URL carries a password.
UNREACHABLE_ENV_PY = """
from alembic import context
from sqlalchemy import create_engine, pool

engine = create_engine("postgresql+psycopg://app:s3cr3tpw@127.0.0.1:1/appdb", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""


@pytest.fixture()
def scratch(pg_server: URL) -> Iterator[URL]:
    """An empty database the test's tasks are aimed at (DATABASE_URL), dropped afterwards."""
    name = f"ev_{uuid.uuid4().hex[:10]}"
    url = database.create(pg_server, name)
    yield url
    database.drop(pg_server, name, disposable=(name,))


def _env(url: URL, root: Path) -> dict[str, str]:
    return {"DATABASE_URL": plain_url(url), "PYTHONPATH": str(root)}


def _query(url: URL, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]  # literal test SQL


def test_no_revision_is_never_clean(tmp_path: Path, scratch: URL) -> None:
    """A history whose folders hold no revision: the round trip and the history say so and fail."""
    root = make_project(tmp_path / "p", revisions=[])
    env = _env(scratch, root)
    run = invoke("round-trip", cwd=root, env=env)
    assert run.code == 1, run.text
    assert "clean" not in run.out
    assert "not checked: R1-roundtrip: no revision found in migrations/versions" in run.out
    run = invoke("migrate.history", cwd=root, env=env)
    assert run.code == 1, run.text
    assert "no revision found in migrations/versions" in run.err and "Traceback" not in run.text


def test_env_py_own_engine_on_the_same_database(tmp_path: Path, scratch: URL) -> None:
    """env.py's own engine reaches the intended database: every task works there and says where it is."""
    root = make_project(tmp_path / "p", revisions=[], models=TWO_TABLES)
    versions = root / "migrations" / "versions"
    for rev, down, table in (("r1", None, "things"), ("r2", "r1", "stuff")):
        (versions / f"{rev}.py").write_text(PUBLIC_REVISION.format(rev=rev, down=repr(down), table=table))
    (root / "migrations" / "env.py").write_text(OWN_ENGINE_ENV_PY)
    env = _env(scratch, root)
    assert invoke("migrate", cwd=root, env=env).code == 0
    run = invoke("migrate.current", cwd=root, env=env)
    assert run.out.strip() == "r2", run.text  # read from app.alembic_version, as env.py sees it
    run = invoke("migrate.down", "--revision", "-1", cwd=root, env=env)
    assert run.code == 0, run.text
    assert "stopped before any change" not in run.text
    assert run.out.strip().endswith("is at r1")
    assert _query(scratch, "SELECT version_num FROM app.alembic_version") == [("r1",)]
    assert _query(scratch, "SELECT to_regclass('public.stuff') IS NULL") == [(True,)]
    run = invoke("consistency", "--no-cache", cwd=root, env=env)
    assert run.code == 0, run.text


def test_env_py_for_an_engine_is_probed_not_guessed(tmp_path: Path, scratch: URL) -> None:
    """An env.py that calls .connect() on what it is handed: C6 reads its own version table, not a default."""
    root = make_project(tmp_path / "p")
    (root / "migrations" / "env.py").write_text(ENGINE_STYLE_ENV_PY)
    env = _env(scratch, root)
    assert invoke("migrate", cwd=root, env=env).code == 0
    assert invoke("migrate.current", cwd=root, env=env).out.strip() == "r1"
    run = invoke("consistency", "--live", cwd=root, env=env)
    assert run.code == 0, run.text
    assert "at base" not in run.text


def test_status_marks_what_it_could_not_measure(tmp_path: Path, scratch: URL) -> None:
    """A history no database can be built from: the status numbers that need one are unknown, and it fails."""
    root = make_project(tmp_path / "p", revisions=[("r1", None, "things"), ("r2", "r_missing", "stuff")])
    run = invoke("status", cwd=root, env=_env(scratch, root))
    assert run.code == 1, run.text
    assert "Models with Tables:           ? not checked" in run.out
    assert "Missing Tables:               ? not checked" in run.out
    assert "Total Models:                 1 ✅" in run.out
    assert "not checked: C1-model-table" in run.out


def test_a_connection_env_py_opens_is_named_as_its_own(tmp_path: Path, scratch: URL) -> None:
    """env.py's own server is down: the line names env.py and its URL (masked), not dbops's database."""
    root = make_project(tmp_path / "p")
    (root / "migrations" / "env.py").write_text(UNREACHABLE_ENV_PY)
    run = invoke("migrate", cwd=root, env=_env(scratch, root))
    assert run.code == 2, run.text
    line = run.err.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "127.0.0.1:1/appdb" in line and "opened by migrations/env.py:" in line
    assert f"dbops handed it postgresql+psycopg://postgres:***@127.0.0.1:{scratch.port}/{scratch.database}" in line
    assert "s3cr3tpw" not in run.text


def test_models_not_imported_is_one_line_naming_the_count(tmp_path: Path, scratch: URL) -> None:
    """A Base whose models are not all imported: exit 2 naming how many tables it holds, not a crash."""
    models = (
        '"""Models."""\n\nimport sqlalchemy as sa\n\nmetadata = sa.MetaData()\n'
        'things = sa.Table("things", metadata, sa.Column("id", sa.Integer, primary_key=True),\n'
        '    sa.Column("owner_id", sa.Integer, sa.ForeignKey("owners.id")))\n'
    )
    root = make_project(tmp_path / "p", models=models)
    run = invoke("consistency", "--no-cache", cwd=root, env=_env(scratch, root))
    assert run.code == 2, run.text
    assert "holds 1 tables, and things.owner_id refers to owners.id, which is not among them" in run.err
    assert "Traceback" not in run.text and "unexpected" not in run.text
