"""The embedded backend on real PostgreSQL binaries: reuse, stop, and recovery from a stale state."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbops.backends.embedded import EmbeddedBackend
from dbops.backends.pgbin import find_pgbin, read_postmaster_pid
from dbops.core.config import load_settings
from dbops.core.errors import BackendUnavailable, ConfigError
from dbops.core.urls import libpq_url

pytestmark = pytest.mark.slow


@pytest.fixture()
def backend(tmp_path: Path) -> Iterator[EmbeddedBackend]:
    """An embedded cluster of its own, in a temporary cache directory."""
    try:
        find_pgbin()
    except BackendUnavailable as exc:
        pytest.skip(exc.message)
    be = EmbeddedBackend(load_settings().replace(cache_dir=tmp_path / "cache", backend="embedded"))
    yield be
    be.destroy()


def _select_one(url: object) -> int:
    with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:  # type: ignore[arg-type]
        row = conn.execute("SELECT 1").fetchone()
    return int(row[0]) if row else 0


def test_start_reuses_the_running_cluster_and_stop_stops_it(backend: EmbeddedBackend) -> None:
    url = backend.start()
    assert url.host == "127.0.0.1" and _select_one(url) == 1
    again = backend.start()
    assert again.port == url.port
    assert "running" in backend.status() and url.password not in backend.status()
    assert backend.stop() is True
    assert backend.stop() is False
    assert "stopped" in backend.status()


def test_stale_pid_file_and_dead_server_are_recovered(backend: EmbeddedBackend) -> None:
    url = backend.start()
    data = backend.home / f"data{find_pgbin(backend.settings.pg_version).major}"
    pid = int((data / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)  # a crashed server leaves its pid file behind
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.05)
    assert (data / "postmaster.pid").exists()
    url2 = backend.start()
    assert _select_one(url2) == 1
    assert read_postmaster_pid(data)[1] == url2.port
    del url


def test_a_taken_port_is_not_fatal(backend: EmbeddedBackend) -> None:
    url = backend.start()
    backend.stop()
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", int(url.port or 0)))
        squatter.listen()
        url2 = backend.start()
        assert url2.port != url.port
        assert _select_one(url2) == 1


def test_unusable_cache_directory_is_one_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    be = EmbeddedBackend(load_settings().replace(cache_dir=blocker / "cache"))
    with pytest.raises(ConfigError) as info:
        be.start()
    assert "not writable" in info.value.message and "DBOPS_CACHE_DIR" in info.value.hint


def test_missing_binaries_name_the_alternatives(tmp_path: Path) -> None:
    be = EmbeddedBackend(load_settings().replace(cache_dir=tmp_path, pg_version="99"))
    with pytest.raises(BackendUnavailable) as info:
        be.start()
    assert "no PostgreSQL 99 server binaries" in info.value.message
    assert "docker" in info.value.hint and "pgserver" in info.value.hint
