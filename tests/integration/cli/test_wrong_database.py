"""Only the database it means: a project whose env.py opens a database of its own never loses that database's rows.

The developer's dev database has rows and is at head. dbops is pointed at another database. With the
env.py that `alembic init` writes (it reads `sqlalchemy.url`), dbops hands it the intended database and
every task works there; with an env.py that reads a URL dbops does not know (its own variable), every
migrating task stops before any change with one line naming env.py. Either way the dev rows stay.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from cli_support import invoke

from dbops.core import database
from dbops.core.dburl import URL
from dbops.core.urls import libpq_url, plain_url

REVISION = '''"""things"""
from alembic import op
import sqlalchemy as sa

revision = "r1"
down_revision = None


def upgrade() -> None:
    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text))


def downgrade() -> None:
    op.drop_table("things")
'''

MODELS = '''"""Models of the project."""
import sqlalchemy as sa

metadata = sa.MetaData()
things = sa.Table(
    "things", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("note", sa.Text)
)
'''

# The FastAPI full-stack template's shape: env.py builds its URL from the project's own settings.
OWN_SETTINGS_ENV_PY = """
import os
from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def run_migrations_online() -> None:
    engine = create_engine(os.environ["APP_DB_URI"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""

# pytest-alembic's convention: the caller may hand in an Engine, so env.py calls .connect() on it.
ENGINE_STYLE_ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
connectable = config.attributes.get("connection", None)
if connectable is None:
    connectable = engine_from_config(config.get_section(config.config_ini_section), poolclass=pool.NullPool)
with connectable.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
"""

TASKS = [
    ["migrate"],
    ["migrate.down", "--revision", "base"],
    ["round-trip"],
    ["reset-db"],
    ["consistency"],
]
MIGRATING = [t for t in TASKS if t[0] != "consistency"]


@pytest.fixture()
def dev_database(pg_server: URL) -> Iterator[URL]:
    """The developer's own database: at head, with rows."""
    name = f"dev_{uuid.uuid4().hex[:8]}"
    url = database.create(pg_server, name)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE things (id integer PRIMARY KEY, note text)")
        conn.execute("INSERT INTO things VALUES (1, 'keep me'), (2, 'and me')")
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('r1')")
    yield url
    database.drop(pg_server, name)


def _dev_state(url: URL) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT id, note FROM things ORDER BY id").fetchall()
        version = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return rows, version


def _stock_project(root: Path, dev: URL) -> Path:
    """A project made by `alembic init` whose alembic.ini names the dev database."""
    root.mkdir()
    cfg = Config(str(root / "alembic.ini"))
    command.init(cfg, str(root / "migrations"))
    ini = (root / "alembic.ini").read_text()
    ini = ini.replace("driver://user:pass@localhost/dbname", plain_url(dev).replace("%", "%%"))
    (root / "alembic.ini").write_text(ini)
    (root / "migrations" / "versions" / "r1.py").write_text(REVISION)
    (root / "models.py").write_text(MODELS)
    (root / "pyproject.toml").write_text('[tool.dbops]\nmetadata = "models:metadata"\ndatabase = "scratch"\n')
    return root


def _env(pg_server: URL, root: Path, target: str) -> dict[str, str]:
    """The environment of a task aimed at ``target``, a database the test creates empty."""
    database.create(pg_server, target)
    return {"DATABASE_URL": plain_url(pg_server.set(database=target)), "PYTHONPATH": str(root)}


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t[0])
def test_stock_env_py_works_on_the_named_database_and_leaves_dev_alone(
    tmp_path: Path, pg_server: URL, dev_database: URL, task: list[str]
) -> None:
    """Stock env.py reads sqlalchemy.url: dbops points it at the intended database; the dev rows stay."""
    root = _stock_project(tmp_path / "stock", dev_database)
    target = f"scratch_{uuid.uuid4().hex[:8]}"
    env = _env(pg_server, root, target)
    before = _dev_state(dev_database)
    try:
        if task[0] in ("migrate.down", "consistency"):
            assert invoke("migrate", cwd=root, env=env).code == 0
        run = invoke(*task, cwd=root, env=env)
        assert run.code == 0, run.text
        assert "Traceback" not in run.text
        assert _dev_state(dev_database) == before
        # ...and the change happened where the task said it would.
        expected = {"migrate": "r1", "migrate.down": "base", "reset-db": "r1", "consistency": "r1"}.get(task[0])
        if expected:
            assert invoke("migrate.current", cwd=root, env=env).out.strip() == expected
    finally:
        database.drop(pg_server, target)


@pytest.mark.parametrize("task", MIGRATING, ids=lambda t: t[0])
def test_env_py_with_its_own_url_is_stopped_before_any_change(
    tmp_path: Path, pg_server: URL, dev_database: URL, task: list[str]
) -> None:
    """env.py that opens its own database: the task stops with one line naming env.py; dev rows and revision stay."""
    root = _stock_project(tmp_path / "own", dev_database)
    (root / "migrations" / "env.py").write_text(OWN_SETTINGS_ENV_PY)
    target = f"scratch_{uuid.uuid4().hex[:8]}"
    env = {**_env(pg_server, root, target), "APP_DB_URI": plain_url(dev_database)}
    before = _dev_state(dev_database)
    try:
        run = invoke(*task, cwd=root, env=env)
        assert run.code == 2, run.text
        assert "Traceback" not in run.text
        assert "env.py opened a database of its own" in run.err
        assert 'config.attributes.get("connection")' in run.err
        assert len(run.err.strip().splitlines()) == 1
        assert _dev_state(dev_database) == before
    finally:
        database.drop(pg_server, target)


def test_url_env_setting_points_the_projects_own_variable_at_the_named_database(
    tmp_path: Path, pg_server: URL, dev_database: URL
) -> None:
    """With url_env naming the project's variable, the same env.py migrates the intended database."""
    root = _stock_project(tmp_path / "own", dev_database)
    (root / "migrations" / "env.py").write_text(OWN_SETTINGS_ENV_PY)
    with (root / "pyproject.toml").open("a") as fh:
        fh.write('url_env = ["APP_DB_URI"]\n')
    target = f"scratch_{uuid.uuid4().hex[:8]}"
    env = {**_env(pg_server, root, target), "APP_DB_URI": plain_url(dev_database)}
    before = _dev_state(dev_database)
    try:
        run = invoke("round-trip", cwd=root, env=env)
        assert run.code == 0, run.text
        assert "round trip clean" in run.out
        assert _dev_state(dev_database) == before
    finally:
        database.drop(pg_server, target)


def test_env_py_that_expects_an_engine_runs_on_the_handed_in_connection(
    tmp_path: Path, pg_server: URL, dev_database: URL
) -> None:
    """An env.py that calls .connect() on attributes["connection"] migrates the named database."""
    root = _stock_project(tmp_path / "engine", dev_database)
    (root / "migrations" / "env.py").write_text(ENGINE_STYLE_ENV_PY)
    target = f"scratch_{uuid.uuid4().hex[:8]}"
    env = _env(pg_server, root, target)
    before = _dev_state(dev_database)
    try:
        run = invoke("round-trip", cwd=root, env=env)
        assert run.code == 0, run.text
        assert "round trip clean" in run.out
        assert invoke("migrate", cwd=root, env=env).code == 0
        assert invoke("migrate.current", cwd=root, env=env).out.strip() == "r1"
        assert _dev_state(dev_database) == before
    finally:
        database.drop(pg_server, target)
