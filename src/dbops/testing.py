"""Reusable pytest fixtures: a server, and a fresh database per test cloned from a migrated template.

Use from any Alembic project's conftest.py::

    pytest_plugins = ["dbops.testing"]

Each xdist worker gets its own databases; the template is built once (under a file lock)
and only rebuilt when the migrations or models change.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dbops import lifecycle
from dbops.backends import orphans, servers
from dbops.backends.base import get_backend
from dbops.core import database
from dbops.core.config import Settings, load_settings
from dbops.core.dburl import URL
from dbops.core.urls import plain_url
from dbops.lifecycle import templates
from dbops.lifecycle.stepdata import RevisionData


def _unique(prefix: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session", autouse=True)
def _servers_of_temporary_checkouts_end_with_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Servers that tests start for projects in their temporary folders are stopped when the session ends.

    pytest keeps those folders for a few more runs, so the reaper would not see them as orphans yet:
    their servers are stopped and their temp-folder homes deleted here, also those of servers that
    already stopped or that another registry recorded. A session that is killed leaves them to the
    short idle stop of projects in the temp folder, and to the reaper once pytest deletes the folders.
    """
    yield
    base = tmp_path_factory.getbasetemp().resolve()
    for server in servers.entries():
        if Path(server.owner).is_relative_to(base):
            servers.stop_server(server, delete_data=True)
    for home in orphans.homes():
        if home.owner and Path(home.owner).is_relative_to(base):
            orphans.remove(home, owner_may_exist=True)


@pytest.fixture(scope="session")
def dbops_settings() -> Settings:
    """The project's dbops settings (pyproject.toml, DATABASE_URL, DBOPS_*)."""
    return load_settings()


@pytest.fixture(scope="session")
def pg_server(dbops_settings: Settings) -> URL:
    """URL of a running PostgreSQL server (maintenance database), started on demand."""
    return get_backend(dbops_settings).start()


@pytest.fixture()
def empty_database(pg_server: URL, dbops_settings: Settings) -> Iterator[URL]:
    """URL of a new, empty database, dropped after the test."""
    name = _unique(f"t_{dbops_settings.database}_empty")
    url = database.create(pg_server, name)
    yield url
    database.drop(pg_server, name)


@pytest.fixture(scope="session")
def head_template(pg_server: URL, dbops_settings: Settings) -> Iterator[str]:
    """Name of a template database migrated to head (held for the session: no other run drops it meanwhile)."""
    with templates.in_use(pg_server, templates.ensure_template(dbops_settings, pg_server, "head")) as name:
        yield name


@pytest.fixture(scope="session")
def _head_copies(pg_server: URL, head_template: str, dbops_settings: Settings) -> Iterator[templates.Copies]:
    with templates.Copies(pg_server, head_template, lambda: _unique(f"t_{dbops_settings.database}")) as copies:
        yield copies


@pytest.fixture()
def migrated_database(_head_copies: templates.Copies) -> Iterator[URL]:
    """URL of a fresh database at head, cloned from the template (ahead of time) and dropped after the test."""
    with _head_copies.copy() as url:
        yield url


@pytest.fixture(scope="session")
def seeded_template(pg_server: URL, dbops_settings: Settings) -> Iterator[str]:
    """Name of a template database at head with the project's seed data loaded (held for the session)."""
    seeded = templates.ensure_template(
        dbops_settings, pg_server, "head", build=lambda url: lifecycle.seed(dbops_settings, url)
    )
    with templates.in_use(pg_server, seeded) as name:
        yield name


@pytest.fixture(scope="session")
def _seeded_copies(pg_server: URL, seeded_template: str, dbops_settings: Settings) -> Iterator[templates.Copies]:
    prefix = f"t_{dbops_settings.database}_seeded"
    with templates.Copies(pg_server, seeded_template, lambda: _unique(prefix)) as copies:
        yield copies


@pytest.fixture()
def seeded_database(_seeded_copies: templates.Copies) -> Iterator[URL]:
    """URL of a fresh database at head with the seed data, cloned (ahead of time) and dropped after the test."""
    with _seeded_copies.copy() as url:
        yield url


@pytest.fixture(scope="session")
def worker_database(pg_server: URL, head_template: str, dbops_settings: Settings) -> Iterator[URL]:
    """One database at head per xdist worker, for tests isolated by rollback (see db_connection)."""
    with templates.cloned(pg_server, head_template, _unique(f"t_{dbops_settings.database}_worker")) as url:
        yield url


@pytest.fixture()
def db_connection(worker_database: URL, dbops_settings: Settings) -> Iterator[Any]:
    """A SQLAlchemy connection to the worker's database at head, in a transaction rolled back after the test.

    The project's own SQLAlchemy and driver (this runs in the project's test environment). Tests that need
    to commit take ``migrated_database`` (a database of their own) instead.
    """
    from sqlalchemy import create_engine

    from dbops.project.python import project_url

    engine = create_engine(plain_url(project_url(dbops_settings, worker_database, Path(sys.executable))))
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            yield conn
            trans.rollback()
    finally:
        engine.dispose()


@pytest.fixture()
def revision_data(pg_server: URL, dbops_settings: Settings) -> Iterator[Callable[[str], RevisionData]]:
    """``revision_data("0003_x")``: a copy at that revision's parent; put rows in, ``.upgrade()``, assert,
    ``.downgrade()``, assert again (``.engine`` reaches the copy). Every copy is dropped after the test."""
    made: list[RevisionData] = []

    def engine_for(url: URL) -> Any:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        from dbops.project.python import project_url

        return create_engine(plain_url(project_url(dbops_settings, url, Path(sys.executable))), poolclass=NullPool)

    def at_parent(revision: str) -> RevisionData:
        step = RevisionData(dbops_settings, pg_server, revision, engine_for)
        made.append(step)
        return step

    yield at_parent
    for step in made:
        step.close()
