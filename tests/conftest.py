"""Test suite configuration: tests are marked unit or integration by folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dbops.core import database
from dbops.core.dburl import URL

pytest_plugins = ["dbops.testing"]

# Folders whose tests start processes or servers: left out of full-check's fast subset.
_SLOW_FOLDERS = {"cli", "lifecycle", "docker", "broken"}
_DB_FIXTURES = {
    "pg_server",
    "empty_database",
    "migrated_database",
    "db_connection",
    "head_template",
    "seeded_database",
    "seeded_template",
    "worker_database",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder; a unit test that asks for the database is an error, not a slow test."""
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
            if _SLOW_FOLDERS.intersection(parts):
                item.add_marker(pytest.mark.slow)
            if "docker" in parts:
                item.add_marker(pytest.mark.docker)
        elif "unit" in parts:
            item.add_marker(pytest.mark.unit)
            wanted = _DB_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if wanted:
                raise pytest.UsageError(
                    f"unit test {item.nodeid} asks for the database ({', '.join(sorted(wanted))}); "
                    "move it to tests/integration"
                )


@pytest.fixture(scope="session")
def needs_extensions(pg_server: URL) -> Callable[..., None]:
    """needs_extensions(*names): skip the test on a server that cannot create them (pgserver's build has no contrib)."""
    with database.connect(pg_server) as conn:
        available = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions").fetchall()}

    def require(*names: str) -> None:
        missing = sorted(set(names) - available)
        if missing:
            pytest.skip(f"the test server has no {', '.join(missing)} extension (its build lacks contrib)")

    return require
