"""A machine-wide registry of the servers dbops started, and the reaper that stops orphaned ones.

Every embedded cluster and Docker container dbops starts is recorded as one small JSON file in a
per-user folder (``$DBOPS_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/dbops-servers``, else
``/tmp/dbops-servers-<uid>``) with its owner: the cache directory of the checkout that started it.
A server whose owner folder is gone is an orphan: :func:`reap` stops it and deletes its data.
The registry forgets stopped servers; the files they leave in the temp folder are backends/orphans.py's.
This module imports nothing heavy, because :func:`reap` runs at the start of every command.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from dbops.core.locks import locked_if_free
from dbops.core.private import write_private

if TYPE_CHECKING:
    from dbops.core.config import Settings

# The name of an embedded cluster's home in the temp folder (backends/orphans.py): deleted with its orphan.
TMP_HOME = re.compile(r"dbops-[0-9a-f]{10}")


@dataclass(frozen=True)
class Server:
    """One registry entry: a server dbops started and the folder that owns it."""

    kind: str  # "embedded" or "docker"
    owner: str  # the cache directory; when it is gone the server is an orphan
    port: int
    pid: int = 0  # the postmaster (embedded)
    data: str = ""  # the data directory (embedded)
    home: str = ""  # what to delete with an orphan (embedded)
    container: str = ""  # the container name (docker)
    watchdog: int = 0  # the idle-stop watchdog's pid (embedded)
    tag: str = ""  # DBOPS_RUN_TAG of the run that started it, so CI can find what it left running
    started: float = 0.0
    idle: float = 0.0  # the watchdog's idle stop in seconds (embedded; 0: none)

    @property
    def key(self) -> str:
        """The entry's file name: one entry per data directory or container."""
        return hashlib.sha256(f"{self.kind}\0{self.data or self.container}".encode()).hexdigest()[:16]

    @property
    def orphaned(self) -> bool:
        """True when the owning folder no longer exists."""
        return not Path(self.owner).exists()

    @property
    def alive(self) -> bool:
        """True while the recorded postmaster runs (containers: assumed while recorded)."""
        return postmaster_alive(self.pid, self.data) if self.kind == "embedded" else True


_FIELDS = {f.name for f in fields(Server)}


def registry_dir() -> Path | None:
    """The per-user registry folder, created 0700; None if an unsafe one (another user's) is in the way."""
    explicit = os.environ.get("DBOPS_RUNTIME_DIR")
    if explicit:
        folder = Path(explicit)
    elif os.environ.get("XDG_RUNTIME_DIR") and Path(os.environ["XDG_RUNTIME_DIR"]).is_dir():
        folder = Path(os.environ["XDG_RUNTIME_DIR"]) / "dbops-servers"
    else:
        folder = Path(tempfile.gettempdir()) / f"dbops-servers-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.stat()
    except OSError:
        return None
    # In a shared /tmp somebody else could have made the folder first: never trust theirs.
    return folder if st.st_uid == os.getuid() else None


def record(server: Server) -> None:
    """Write (or replace) the server's entry atomically."""
    folder = registry_dir()
    if folder is None:
        return
    entry = Server(**{**asdict(server), "tag": server.tag or os.environ.get("DBOPS_RUN_TAG", "")})
    write_private(folder / f"{entry.key}.json", json.dumps(asdict(entry)))  # two threads may record one server


def forget(server: Server) -> None:
    """Remove the server's entry (it was stopped)."""
    folder = registry_dir()
    if folder is not None:
        (folder / f"{server.key}.json").unlink(missing_ok=True)


def entries() -> list[Server]:
    """Every recorded server (unreadable or foreign entries are skipped)."""
    folder = registry_dir()
    if folder is None:
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            stored = json.loads(path.read_text())
            # Fields a newer dbops added are left out, so both versions read each other's entries.
            found.append(Server(**{k: v for k, v in stored.items() if k in _FIELDS}))
        except (OSError, ValueError, TypeError, AttributeError):
            continue
    return found


def lookup(kind: str, data_or_container: str) -> Server | None:
    """The entry of one data directory or container, if recorded."""
    probe = Server(kind, "", 0, data=data_or_container if kind == "embedded" else "", container=data_or_container)
    return next((s for s in entries() if s.key == probe.key), None)


# -- processes -----------------------------------------------------------------------------------
def process_alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie, dead but not yet waited for, does not count)."""
    if pid <= 0:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not Path("/proc").is_dir()
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def postmaster_alive(pid: int, data: str) -> bool:
    """True if ``pid`` is a running postgres serving ``data`` (not a reused pid)."""
    if not process_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return not Path("/proc").is_dir()  # no /proc (not Linux): the pid alone has to do
    return os.fsencode(data) in cmdline


def stop_process(pid: int, first: int = signal.SIGINT, grace: float = 15.0) -> None:
    """Signal ``pid`` (postgres: SIGINT is a fast shutdown), escalate to SIGQUIT and SIGKILL, wait until gone."""
    for sig, wait in ((first, grace), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not process_alive(pid):
                return
            time.sleep(0.05)


# -- reaping -------------------------------------------------------------------------------------
def _deletable_home(server: Server) -> Path | None:
    """The folder to delete with an orphan: inside the (gone) owner, or a /tmp fallback home."""
    if not server.home:
        return None
    home = Path(server.home)
    if str(home).startswith(server.owner.rstrip("/") + "/"):
        return home
    if home.name == "pg" and TMP_HOME.fullmatch(home.parent.name) and home.parent.parent == Path(tempfile.gettempdir()):
        return home.parent
    return None


def stop_server(server: Server, delete_data: bool) -> None:
    """Stop one recorded server (and its watchdog) and forget it; with ``delete_data`` also remove its files."""
    if server.kind == "embedded":
        if postmaster_alive(server.pid, server.data):
            stop_process(server.pid)
        if server.watchdog and process_alive(server.watchdog):
            stop_process(server.watchdog, signal.SIGTERM, grace=5.0)
        home = _deletable_home(server) if delete_data else None
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)
    elif server.kind == "docker":
        remove_container(server.container)
    forget(server)


def remove_container(name: str) -> bool:
    """Remove a container and its anonymous volumes; False when Docker is not reachable or it is gone."""
    try:
        import docker  # type: ignore[import-untyped]  # only when there is a container to remove
    except ImportError:
        return False  # no SDK: no container of ours can exist
    try:
        docker.from_env().containers.get(name).remove(force=True, v=True)
    except docker.errors.DockerException:  # no engine, or the container is gone: nothing to remove
        return False
    return True


@contextlib.contextmanager
def _reaper_lock() -> Iterator[bool]:
    """True if we hold the machine-wide reaper lock; another process reaping means we need not."""
    folder = registry_dir()
    if folder is None:
        yield False
        return
    with locked_if_free(os.open(folder / ".reaper.lock", os.O_RDWR | os.O_CREAT, 0o600)) as ours:
        yield ours


def reap(include_stale: bool = True) -> list[Server]:
    """Stop every orphaned server and delete its data; forget entries of servers that died. Returns the orphans."""
    found = entries()
    if not found:
        return []
    reaped: list[Server] = []
    with _reaper_lock() as ours:
        if not ours:
            return []
        for server in found:
            if server.orphaned:
                stop_server(server, delete_data=True)
                reaped.append(server)
            elif include_stale and server.kind == "embedded" and not server.alive:
                forget(server)
    return reaped


def docker_orphans() -> list[Server]:
    """Containers labelled by dbops whose owner folder is gone (also those missing from the registry)."""
    try:
        import docker
    except ImportError:
        return []  # no SDK: no container of ours can exist
    try:
        containers = docker.from_env().containers.list(all=True, filters={"label": "dbops.owner"})
    except docker.errors.DockerException:  # no engine reachable: nothing to find
        return []
    found = []
    for container in containers:
        owner = (container.labels or {}).get("dbops.owner", "")
        if owner and not Path(owner).exists():
            found.append(Server("docker", owner, 0, container=container.name))
    return found


def describe(server: Server) -> str:
    """One line for ``db.status --all``."""
    if server.kind == "embedded":
        what = f"embedded pid {server.pid} 127.0.0.1:{server.port} data {server.data}"
        what += f", idle stop after {server.idle:.0f} s" if server.idle else ""
        state = "running" if server.alive else "not running"
    else:
        what = f"docker {server.container} 127.0.0.1:{server.port}"
        state = "recorded"
    return f"{what} ({state}), owner {server.owner}{' [ORPHANED]' if server.orphaned else ''}"


def owner_running(owner: Path) -> bool:
    """True if a recorded server of the cache directory ``owner`` runs."""
    wanted = str(owner.resolve())
    return any(s.owner == wanted and s.alive for s in entries())


def keep_server_after_ci(keep: bool = False) -> bool:
    """Whether a pipeline keeps the server it started: always outside CI, in CI only when asked."""
    return keep or not os.environ.get("CI") or bool(os.environ.get("DBOPS_KEEP_SERVER"))


@contextlib.contextmanager
def pipeline_server(settings: Settings, stop: Callable[[], object], keep: bool = False) -> Iterator[None]:
    """Around a pipeline: in CI, ``stop`` the checkout's server at the end if a pipeline started it.

    Pipelines of one checkout may overlap: each holds a shared lock while it runs, and only the
    last one out (the one that gets the lock exclusively) stops the server.
    """
    if keep_server_after_ci(keep) or settings.resolved_backend == "url":
        yield
        return
    cache = settings.cache_dir
    cache.mkdir(parents=True, exist_ok=True)
    marker = cache / "pipeline-started-server"
    fd = os.open(cache / "pipelines.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        with _flocked(cache / "pipelines.check.lock"):  # check-and-mark, and release-and-test, one at a time
            fcntl.flock(fd, fcntl.LOCK_SH)
            if not owner_running(cache):
                marker.touch()
        yield
    finally:
        with _flocked(cache / "pipelines.check.lock"):
            fcntl.flock(fd, fcntl.LOCK_UN)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                last_out = True
            except BlockingIOError:
                last_out = False
            if last_out and marker.exists():
                stop()
                marker.unlink(missing_ok=True)
        os.close(fd)


@contextlib.contextmanager
def _flocked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def left_running(tag: str) -> list[Server]:
    """Servers started under the run tag ``tag`` that still run (CI's final check)."""
    return [s for s in entries() if s.tag == tag and s.alive]


def main(argv: list[str] | None = None) -> int:
    """``python -m dbops.backends.servers check-tag|stop-tag TAG``: name (or stop) a run's running servers."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("check-tag", "stop-tag"):
        print("usage: python -m dbops.backends.servers check-tag|stop-tag TAG", file=sys.stderr)
        return 2
    leftover = left_running(args[1])
    for server in leftover:
        if args[0] == "stop-tag":
            stop_server(server, delete_data=True)
            print(f"stopped: {describe(server)}")
        else:
            print(f"left running: {describe(server)}", file=sys.stderr)
    print(f"{len(leftover)} server(s) of run {args[1]} left running")
    return 1 if leftover and args[0] == "check-tag" else 0


if __name__ == "__main__":
    raise SystemExit(main())
