"""Fixtures of the lifecycle tests: a registry folder of each test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dbops.backends import servers
from dbops.backends.pgbin import find_pgbin
from dbops.core.errors import BackendUnavailable


@pytest.fixture()
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A registry folder of this test's own; whatever is left in it is stopped afterwards."""
    try:
        find_pgbin()
    except BackendUnavailable as exc:
        pytest.skip(exc.message)
    folder = tmp_path / "registry"
    monkeypatch.setenv("DBOPS_RUNTIME_DIR", str(folder))
    for name in ("DBOPS_BACKEND", "DBOPS_CACHE_DIR", "DBOPS_IDLE_STOP"):  # each checkout its own .dbops
        monkeypatch.delenv(name, raising=False)
    yield folder
    for server in servers.entries():
        servers.stop_server(server, delete_data=True)
