"""Support for the reaper tests: small checkouts with embedded clusters, and dbops commands run as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dbops.backends import servers
from dbops.backends.embedded import EmbeddedBackend
from dbops.core.config import load_settings

REPO = Path(__file__).resolve().parents[3]
MINIPROJ = REPO / "tests" / "fixtures" / "miniproj"
PYPROJECT = '[project]\nname = "mini"\nversion = "0"\n[tool.dbops]\nmetadata = "models:metadata"\ndatabase = "mini"\n'
Run = subprocess.CompletedProcess[str]
DEADLINE = 180.0  # generous: the machine is shared, and nothing here measures speed


def checkout(where: Path) -> Path:
    """A temporary copy of the small project, with its own cache directory."""
    shutil.copytree(MINIPROJ, where, ignore=shutil.ignore_patterns("__pycache__"))
    (where / "pyproject.toml").write_text(PYPROJECT)
    return where


def start_in(root: Path, **changes: object) -> tuple[EmbeddedBackend, servers.Server]:
    """Start the checkout's embedded cluster; return it and its registry entry."""
    backend = EmbeddedBackend(load_settings(root).replace(backend="embedded", **changes))
    url = backend.start()
    entry = next(s for s in servers.entries() if s.owner == str(backend.settings.cache_dir.resolve()))
    assert entry.port == url.port and servers.postmaster_alive(entry.pid, entry.data)
    return backend, entry


def dbops_command(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> Run:
    """Run one dbops command as a user would, in ``cwd``, seeing this test's registry (and ``env``)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    clean["DBOPS_RUNTIME_DIR"] = os.environ["DBOPS_RUNTIME_DIR"]
    if os.environ.get("DBOPS_PG_VERSION"):  # the same binaries as the servers the test started
        clean["DBOPS_PG_VERSION"] = os.environ["DBOPS_PG_VERSION"]
    return subprocess.run(
        [sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_until(condition: object, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after a generous deadline."""
    deadline = time.monotonic() + DEADLINE
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {DEADLINE:.0f} s")
        time.sleep(0.2)
