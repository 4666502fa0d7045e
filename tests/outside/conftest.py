"""Fixtures for the outside projects: a fresh copy of each, importable, and databases of its own."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from outside_cases import CASES, Case
from outside_support import PROJECTS, make_stock_project, unique

from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL

BY_NAME = {c.name: c for c in CASES}


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
