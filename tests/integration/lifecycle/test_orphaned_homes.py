"""Nothing left behind: a cluster home in the temp folder goes once its owner is gone, however its server stopped.

As root, a checkout the service user cannot reach keeps its cluster in ``<tmp>/dbops-<hash>/``. Every
test here gets a temp folder of its own (TMPDIR), so the homes it makes are seen by its own commands
only, never by other reapers on this machine (nor theirs by it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reaper_support import MINIPROJ, PYPROJECT, checkout, dbops_command, start_in, wait_until

from dbops.backends import orphans, servers

pytestmark = pytest.mark.slow


@pytest.fixture()
def temp_folder(registry: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp folder of this test's own, for this process and the commands it runs; emptied afterwards."""
    if os.geteuid() != 0:
        pytest.skip("only a run as root keeps clusters in the temp folder")
    folder = Path(tempfile.mkdtemp(prefix="dbops-tests-"))
    folder.chmod(0o755)  # the service user passes through to the homes
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    for home in orphans.homes():
        for pid in home.postmasters():
            servers.stop_process(pid)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def private(tmp_path: Path) -> Path:
    """A folder the service user cannot enter: checkouts here keep their clusters in the temp folder."""
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    return folder


def home_of(entry: servers.Server, temp_folder: Path) -> Path:
    """The temp-folder home of a started server (checked to be one, with its owner record)."""
    home = Path(entry.home).parent
    assert home.parent == temp_folder and re.fullmatch(r"dbops-[0-9a-f]{10}", home.name), entry.home
    assert json.loads((home / "owner.json").read_text()) == {"owner": entry.owner}
    return home


def age(home: Path) -> None:
    """Make every file dbops looks at say nobody touched the home for two days."""
    days_ago = time.time() - 2 * 24 * 3600
    for path in (home, *home.iterdir(), *(home / "pg").iterdir()):
        os.utime(path, (days_ago, days_ago), follow_symlinks=False)


@pytest.mark.parametrize("how", ["idle-stop", "db.stop", "killed"])
def test_a_stopped_servers_home_goes_once_its_owner_is_gone(temp_folder: Path, private: Path, how: str) -> None:
    root, kept = checkout(private / "gone"), checkout(private / "kept")
    _, entry = start_in(root, idle_stop=1.0 if how == "idle-stop" else None)
    home = home_of(entry, temp_folder)
    if how == "idle-stop":  # the watchdog's own stop
        wait_until(lambda: not servers.process_alive(entry.pid), "the idle stop")
        wait_until(lambda: not servers.process_alive(entry.watchdog), "the watchdog's exit")
    elif how == "db.stop":
        run = dbops_command(root, "db.stop")
        assert run.returncode == 0 and "embedded: stopped" in run.stdout, run.stdout + run.stderr
    else:  # a crash: nothing gets the chance to forget or clean anything
        os.kill(entry.watchdog, signal.SIGKILL)
        os.kill(entry.pid, signal.SIGKILL)
        wait_until(lambda: not servers.process_alive(entry.pid), "the postmaster's death")

    run = dbops_command(kept, "db.status")
    assert run.returncode == 0, run.stderr
    assert servers.entries() == []  # the registry forgot it: the home's own record is all there is
    assert Path(entry.data, "PG_VERSION").is_file()  # its owner exists: never touched

    shutil.rmtree(root)
    run = dbops_command(kept, "db.status")
    assert run.returncode == 0, run.stderr
    assert not home.exists(), sorted(p.name for p in home.rglob("*"))[:20]


def test_a_running_server_no_registry_knows_is_stopped_once_its_owner_is_gone(
    temp_folder: Path, private: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, kept = checkout(private / "gone"), checkout(private / "kept")
    ours = os.environ["DBOPS_RUNTIME_DIR"]
    monkeypatch.setenv("DBOPS_RUNTIME_DIR", str(tmp_path / "another-registry"))
    _, entry = start_in(root)
    monkeypatch.setenv("DBOPS_RUNTIME_DIR", ours)
    home = home_of(entry, temp_folder)
    try:
        shutil.rmtree(root)
        run = dbops_command(kept, "db.status")
        assert run.returncode == 0, run.stderr
        assert not servers.process_alive(entry.pid), "the orphan's postmaster still runs"
        assert not home.exists()
    finally:
        servers.stop_process(entry.watchdog, signal.SIGTERM)


def test_a_home_without_owner_record_goes_only_when_provably_dbops_unused_and_stopped(
    temp_folder: Path, private: Path
) -> None:
    """Homes an older dbops made have no owner record: only an idle, stopped, dbops-only one is deleted."""
    kept = checkout(private / "kept")
    homes = {}
    for name in ("recent", "old", "old-with-foreign-file", "old-running"):
        backend, entry = start_in(checkout(private / name))
        homes[name] = home_of(entry, temp_folder)
        (homes[name] / "owner.json").unlink()
        if name != "old-running":
            backend.stop()
        else:
            servers.forget(entry)  # an older dbops's registry entry, long gone: only the postmaster tells
            running = entry
    (homes["old-with-foreign-file"] / "pg" / "notes.txt").write_text("not dbops's")
    for name in ("old", "old-with-foreign-file", "old-running"):
        age(homes[name])
    look_alike = temp_folder / "dbops-0123456789"  # a dbops name, but not dbops's files
    look_alike.mkdir()
    (look_alike / "pg").mkdir()
    (look_alike / "pg" / "mine.txt").write_text("keep me")
    age(look_alike)
    linked = temp_folder / "dbops-abcdefabcd"  # a dbops name, but a link to a folder elsewhere
    linked.symlink_to(private)

    listing = dbops_command(kept, "db.status", "--all").stdout
    assert f"embedded home {homes['recent']} (stopped), no owner record" in listing, listing
    run = dbops_command(kept, "db.status")
    assert run.returncode == 0, run.stderr

    assert not homes["old"].exists()
    assert (homes["recent"] / "pg" / "password").is_file()
    assert (homes["old-with-foreign-file"] / "pg" / "notes.txt").is_file()
    assert servers.postmaster_alive(running.pid, running.data)
    assert (look_alike / "pg" / "mine.txt").is_file() and linked.is_symlink() and (private / "kept").is_dir()


def test_status_all_lists_a_stopped_orphans_home_and_stop_all_orphans_deletes_it(
    temp_folder: Path, private: Path
) -> None:
    root, kept = checkout(private / "gone"), checkout(private / "kept")
    backend, entry = start_in(root)
    home = home_of(entry, temp_folder)
    backend.stop()
    shutil.rmtree(root)

    listing = dbops_command(kept, "db.status", "--all")
    assert listing.returncode == 0, listing.stderr
    assert f"embedded home {home} (stopped), owner {entry.owner} [ORPHANED]" in listing.stdout.splitlines()
    assert home.exists()  # listing deletes nothing

    stopped = dbops_command(kept, "db.stop", "--all-orphans")
    assert stopped.returncode == 0, stopped.stderr
    assert f"deleted orphaned home: {home} (owner {entry.owner})" in stopped.stdout.splitlines(), stopped.stdout
    assert re.search(r"^1 orphaned cluster home\(s\) deleted$", stopped.stdout, re.M), stopped.stdout
    assert not home.exists()


def test_servers_of_projects_in_the_temp_folder_stop_after_a_short_idle_time(temp_folder: Path, tmp_path: Path) -> None:
    private = temp_folder / "private"
    private.mkdir(mode=0o700)
    _, temporary = start_in(checkout(private / "proj"))
    assert temporary.idle == orphans.TEMPORARY_IDLE_STOP
    cmdline = Path(f"/proc/{temporary.watchdog}/cmdline")
    wait_until(lambda: b"--idle" in cmdline.read_bytes(), "the watchdog's start")  # not yet exec'd just after fork
    watchdog_args = cmdline.read_bytes().split(b"\0")
    assert watchdog_args[watchdog_args.index(b"--idle") + 1] == str(orphans.TEMPORARY_IDLE_STOP).encode()

    # pytest's tmp_path is not in this test's temp folder: the configured idle stop holds there.
    _, elsewhere = start_in(checkout(tmp_path / "elsewhere"))
    assert elsewhere.idle == 1800.0
    _, shorter = start_in(checkout(private / "shorter"), idle_stop=60.0)
    assert shorter.idle == 60.0
    _, never = start_in(checkout(private / "never"), idle_stop=0.0)
    assert never.idle == 0.0 and never.watchdog == 0


def test_destroy_deletes_the_whole_home_record_included(temp_folder: Path, private: Path) -> None:
    backend, entry = start_in(checkout(private / "proj"))
    home = home_of(entry, temp_folder)
    backend.destroy()
    assert not servers.process_alive(entry.pid) and not home.exists()


INNER_TEST = """
import json, os, shutil
from pathlib import Path

from dbops.backends import servers
from dbops.backends.embedded import EmbeddedBackend
from dbops.core.config import load_settings


def start(where):
    shutil.copytree({miniproj!r}, where)
    (where / "pyproject.toml").write_text({pyproject!r})
    backend = EmbeddedBackend(load_settings(where).replace(backend="embedded"))
    backend.start()
    owner = str(backend.settings.cache_dir.resolve())
    return backend, next(s for s in servers.entries() if s.owner == owner)


def test_start_two_servers_and_stop_one(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    running = start(private / "running")
    stopped = start(private / "stopped")
    stopped[0].stop()
    record = {{name: [b.settings.cache_dir.as_posix(), str(b.tmp_home), e.pid] for name, (b, e) in
              (("running", running), ("stopped", stopped))}}
    Path(os.environ["INNER_RECORD"]).write_text(json.dumps(record))
"""


def test_a_pytest_session_stops_its_temporary_projects_servers_and_deletes_their_homes(
    temp_folder: Path, tmp_path: Path
) -> None:
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pytest.ini").write_text("[pytest]\n")
    (inner / "test_inner.py").write_text(
        textwrap.dedent(INNER_TEST).format(miniproj=str(MINIPROJ), pyproject=PYPROJECT)
    )
    record = tmp_path / "record.json"
    env = {**os.environ, "INNER_RECORD": str(record)}
    plugins = ["-p", "dbops.testing", "-p", "no:cacheprovider"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *plugins, "--basetemp", str(tmp_path / "basetemp"), str(inner)],
        cwd=inner,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    started = json.loads(record.read_text())
    for name, (cache_dir, home, pid) in started.items():
        assert Path(cache_dir).is_dir(), f"{name}: pytest keeps its temporary folders"  # so no reaper did this
        assert not servers.process_alive(pid), f"{name}: the server still runs after the session"
        assert not Path(home).exists(), f"{name}: {home} left behind after the session"
