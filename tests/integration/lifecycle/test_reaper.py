"""No orphans: servers of deleted checkouts are reaped by the next command, and an idle server stops itself.

Every test works in a registry folder of its own (DBOPS_RUNTIME_DIR), so it sees and reaps only the
servers it started, never those of other checkouts on this machine.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import psycopg
import pytest
from reaper_support import PYPROJECT, checkout, dbops_command, start_in, wait_until

from dbops.backends import servers
from dbops.core.urls import libpq_url

pytestmark = pytest.mark.slow


def test_servers_of_deleted_checkouts_are_stopped_and_their_data_removed(registry: Path, tmp_path: Path) -> None:
    doomed = [start_in(checkout(tmp_path / f"copy{i}"))[1] for i in range(3)]
    survivor_backend, survivor = start_in(checkout(tmp_path / "kept"))
    assert len({s.pid for s in doomed}) == 3 and all(s.watchdog for s in doomed)
    homes = [Path(s.home) for s in doomed]
    assert all(h.is_dir() for h in homes)
    for i in range(3):
        shutil.rmtree(tmp_path / f"copy{i}")

    run = dbops_command(tmp_path / "kept", "db.status")
    assert run.returncode == 0, run.stderr

    for server, home in zip(doomed, homes, strict=True):
        assert not servers.process_alive(server.pid), f"postmaster {server.pid} of {server.owner} still runs"
        assert not servers.process_alive(server.watchdog), f"watchdog of {server.owner} still runs"
        assert not home.exists(), f"data of {server.owner} left in {home}"
        if home.parent.name.startswith("dbops-"):  # the /tmp fallback home goes as a whole
            assert not home.parent.exists()
    left = servers.entries()
    assert [s.owner for s in left] == [survivor.owner]
    # The checkout that still exists keeps its server.
    assert servers.postmaster_alive(survivor.pid, survivor.data)
    assert "running" in run.stdout
    survivor_backend.destroy()
    assert not servers.process_alive(survivor.pid) and servers.entries() == []


def test_status_all_lists_orphans_and_stop_all_orphans_stops_them(registry: Path, tmp_path: Path) -> None:
    _, orphan = start_in(checkout(tmp_path / "gone"))
    kept_backend, kept = start_in(checkout(tmp_path / "kept"))
    shutil.rmtree(tmp_path / "gone")

    listing = dbops_command(tmp_path / "kept", "db.status", "--all")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert any(orphan.owner in ln and "[ORPHANED]" in ln for ln in lines), listing.stdout
    assert any(kept.owner in ln and "[ORPHANED]" not in ln and "running" in ln for ln in lines), listing.stdout

    stopped = dbops_command(tmp_path / "kept", "db.stop", "--all-orphans")
    assert stopped.returncode == 0, stopped.stderr
    # Machine-wide: an orphan another test leaves at this moment is stopped too, so count ours by name.
    assert any(orphan.owner in ln and ln.startswith("stopped orphan") for ln in stopped.stdout.splitlines())
    assert re.search(r"^[1-9]\d* orphaned server\(s\) stopped$", stopped.stdout, re.M), stopped.stdout
    assert not servers.process_alive(orphan.pid) and not Path(orphan.home).exists()
    assert servers.postmaster_alive(kept.pid, kept.data)
    kept_backend.destroy()


def test_an_idle_server_stops_itself_but_not_while_a_client_is_connected(registry: Path, tmp_path: Path) -> None:
    idle = 2.0
    backend, entry = start_in(checkout(tmp_path / "idle"), idle_stop=idle)
    assert servers.process_alive(entry.watchdog)
    url = backend.start()
    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        time.sleep(idle * 4)  # several watchdog rounds with a client connected
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert servers.postmaster_alive(entry.pid, entry.data)
    wait_until(lambda: not servers.process_alive(entry.pid), "the idle server's stop")
    wait_until(lambda: not servers.process_alive(entry.watchdog), "the watchdog's exit")
    assert servers.entries() == []
    assert Path(entry.data, "PG_VERSION").is_file()  # stopped, not destroyed: the next command restarts it
    assert backend.start().port
    backend.destroy()


FULL_CHECK = (
    'lint_paths = ["models.py"]\ntypecheck_paths = ["models.py"]\nunit_tests = "tests"\nintegration_tests = "tests"\n'
)


@pytest.mark.parametrize("keep", [False, True], ids=["ci-stops", "keep-server"])
def test_full_check_in_ci_stops_the_server_it_started_unless_told_to_keep_it(
    registry: Path, tmp_path: Path, keep: bool
) -> None:
    root = checkout(tmp_path / "ci")
    (root / "pyproject.toml").write_text(PYPROJECT + FULL_CHECK)
    (root / "tests").mkdir()
    (root / "tests" / "test_nothing.py").write_text("def test_true() -> None:\n    assert 1 + 1 == 2\n")
    args = ["full-check", "--json", str(root / "summary.json"), *(["--keep-server"] if keep else [])]
    run = dbops_command(root, *args, env={"CI": "true", "PYTHONPATH": str(root)}, timeout=600)
    assert "Traceback" not in run.stdout + run.stderr
    steps = {s["name"]: s["status"] for s in json.loads((root / "summary.json").read_text())["steps"]}
    assert steps["reset-db"] == "passed", run.stdout  # the run did start and use the server
    status = dbops_command(root, "db.status").stdout
    left = servers.entries()
    if keep:
        assert "running" in status and [s.owner for s in left] == [str((root / ".dbops").resolve())]
    else:
        assert "stopped" in status and left == []
