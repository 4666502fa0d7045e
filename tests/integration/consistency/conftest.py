"""Fixtures for proving each rule can fail: a copy of the fixture project, databases to break with raw SQL."""

from __future__ import annotations

import os
import shutil
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dbops import migrations
from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
MINIPROJ = FIXTURES / "miniproj"


@pytest.fixture()
def mini_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings of a fresh copy of tests/fixtures/miniproj (tests may add or edit revision files)."""
    root = tmp_path / "miniproj"
    shutil.copytree(MINIPROJ, root, ignore=shutil.ignore_patterns("__pycache__"))
    # The models are imported from the original folder; only the migrations are copied. The project's
    # interpreter (a child process) finds them through PYTHONPATH, as a user's shell would set it.
    monkeypatch.syspath_prepend(str(FIXTURES))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(FIXTURES), os.environ.get("PYTHONPATH")])))
    return Settings(
        root=root, alembic_ini=root / "alembic.ini", metadata="miniproj.models:metadata", database="miniproj"
    )


@pytest.fixture()
def add_revision(mini_project: Settings) -> Callable[[str, str], Path]:
    """Write a revision file into the copied project: add_revision(filename, source)."""

    def write(filename: str, source: str) -> Path:
        path = mini_project.root / "migrations" / "versions" / filename
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture()
def mini_empty(pg_server: URL) -> Iterator[URL]:
    """An empty database for the fixture project, dropped after the test."""
    name = f"t_mini_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    url = database.create(pg_server, name)
    yield url
    database.drop(pg_server, name)


@pytest.fixture()
def mini_db(mini_project: Settings, mini_empty: URL) -> URL:
    """The fixture project's database at head."""
    migrations.upgrade(mini_project, mini_empty, "head")
    return mini_empty


def _run_sql(url: URL, *statements: str) -> None:
    with database.connect(url) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]  # literal test SQL


@pytest.fixture()
def run_sql() -> Callable[..., None]:
    """run_sql(url, *statements): execute raw SQL (autocommit) to break a database on purpose."""
    return _run_sql
