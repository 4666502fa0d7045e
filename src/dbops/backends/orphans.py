"""Cluster homes in the temp folder: the owner record kept with their files, and the reaper every command runs.

As root, an embedded cluster whose checkout the service user cannot reach lives in
``<tmp>/dbops-<hash>/`` (backends/embedded.py). The registry forgets a server once it stops, so the
home keeps its own record, ``owner.json``, naming the owner folder: whichever way the server ended
(idle stop, ``db.stop``, a crash), a home whose owner is gone is deleted, its server stopped first.
A home without a record (made by an older dbops) is deleted only when it is provably dbops's (see
:func:`_dbops_layout`), no postmaster runs in it, no registry entry names it, and nothing used it
for :data:`UNRECORDED_AGE` seconds. Listing the temp folder and reading one small file per home keeps
the common case to a few milliseconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dbops.backends import servers
from dbops.backends.pgbin import read_postmaster_pid
from dbops.core.errors import ConfigError
from dbops.core.locks import locked_if_free
from dbops.core.private import write_private

OWNER_FILE = "owner.json"
# A home without an owner record is deleted after a day unused (its data is disposable either way).
UNRECORDED_AGE = 24 * 3600.0
# Projects in the temp folder (pytest's tmp_path) are thrown away soon: so are their servers.
TEMPORARY_IDLE_STOP = 300.0
# Everything dbops writes in a home (embedded.py: the cluster in pg/, a copy of the binaries beside it).
_TOP_NAMES = re.compile(r"pg|owner\.json|\.owner\.json\.\d+(\.\d+)?\.tmp|pgbin\d+|pgbin\d+\.lock|\.pgbin\d+-\w+")
_PG_NAMES = re.compile(
    r"data\d+|data\d+\.init|state\d+\.json|password|initdb\.pw|postgres\.log|last-use|start\.lock"
    r"|\.(password|initdb\.pw)\.\d+(\.\d+)?\.tmp"
)
_reaped_in_process = False


@dataclass(frozen=True)
class Home:
    """One cluster home in the temp folder and the owner its record names ("" when it has none)."""

    path: Path
    owner: str

    @property
    def orphaned(self) -> bool:
        """True when the recorded owner folder no longer exists."""
        return bool(self.owner) and not os.path.exists(self.owner)

    def postmasters(self) -> list[int]:
        """The postmasters running in the home."""
        running = []
        for data in (self.path / "pg").glob("data*"):
            pid = read_postmaster_pid(data)[0]
            if servers.postmaster_alive(pid, str(data)):
                running.append(pid)
        return running


def home_for(cache_dir: Path) -> Path:
    """The temp-folder home of the checkout whose cache directory is ``cache_dir``."""
    tag = hashlib.sha256(str(cache_dir.resolve()).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"dbops-{tag}"


def claim(folder: Path, owner: Path) -> None:
    """Create the home ``folder`` if missing and record ``owner`` in it (once)."""
    folder.mkdir(parents=True, exist_ok=True)  # default mode: the service user passes through to pg/
    st = folder.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise ConfigError(
            f"the cluster's home {folder} is not a folder of this user's",
            "remove it, or set DBOPS_CACHE_DIR to a folder PostgreSQL's service user can reach",
        )
    if _read_owner(folder) != str(owner):
        write_private(folder / OWNER_FILE, json.dumps({"owner": str(owner)}))


def _read_owner(folder: str | Path) -> str | None:
    """The owner recorded in ``folder``: "" without a record, None for one that is not ours or not readable."""
    # os calls rather than pathlib: this runs for every home at the start of every command.
    try:
        fd = os.open(os.path.join(folder, OWNER_FILE), os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return ""
    except OSError:
        return None
    try:
        if os.fstat(fd).st_uid != os.getuid():
            return None
        record = json.loads(os.read(fd, 65536))
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    owner = record.get("owner") if isinstance(record, dict) else None
    return owner if isinstance(owner, str) and owner.startswith("/") else None


def homes() -> list[Home]:
    """This user's cluster homes in the temp folder (real folders named like ours with a trusted record, or none)."""
    try:
        with os.scandir(tempfile.gettempdir()) as listing:
            named = sorted((e.name, e) for e in listing if servers.TMP_HOME.fullmatch(e.name))
    except OSError:
        return []
    found = []
    uid = os.getuid()
    for _, entry in named:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == uid:
            owner = _read_owner(entry.path)
            if owner is not None:
                found.append(Home(Path(entry.path), owner))
    return found


def _dbops_layout(folder: Path) -> bool:
    """True if ``folder`` holds only what dbops writes in a home (and pg/ is a real folder)."""
    pg = folder / "pg"
    try:
        top = os.listdir(folder)
        if "pg" in top and pg.is_symlink():
            return False
        inner = os.listdir(pg) if "pg" in top else []
    except OSError:
        return False
    return all(_TOP_NAMES.fullmatch(n) for n in top) and all(_PG_NAMES.fullmatch(n) for n in inner)


def _last_used(folder: Path) -> float:
    """The latest change to the home or anything directly in it or in its pg/ folder."""
    latest = 0.0
    for path in (folder, *folder.iterdir(), *(folder / "pg").glob("*")):
        with contextlib.suppress(OSError):
            latest = max(latest, path.lstat().st_mtime)
    return latest


def _unrecorded_expired(home: Home) -> bool:
    """True for a record-less home nothing used for :data:`UNRECORDED_AGE` seconds."""
    try:
        return not home.owner and time.time() - _last_used(home.path) > UNRECORDED_AGE
    except OSError:
        return False


def _deletable(home: Home, owner_may_exist: bool) -> bool:
    """The full rule, checked again under the home's start lock."""
    owner = _read_owner(home.path)
    if owner is None or owner != home.owner or not _dbops_layout(home.path):
        return False
    if owner:
        return owner_may_exist or not Path(owner).exists()
    named = {str(Path(s.home).parent) for s in servers.entries() if s.home}
    return _unrecorded_expired(home) and not home.postmasters() and str(home.path) not in named


@contextlib.contextmanager
def _unless_starting(folder: Path) -> Iterator[bool]:
    """False while a command holds the home's start lock (it is starting the cluster right now)."""
    try:
        fd = os.open(folder / "pg" / "start.lock", os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        yield True
        return
    except OSError:
        yield False
        return
    with locked_if_free(fd) as free:
        yield free


def remove(home: Home, owner_may_exist: bool = False) -> bool:
    """Stop the postmasters in ``home`` and delete it if :func:`_deletable` still holds; True once it is gone.

    ``owner_may_exist``: delete a home with an owner record even though its owner is still there.
    """
    with _unless_starting(home.path) as free:
        if not free or not _deletable(home, owner_may_exist):
            return False
        for pid in home.postmasters():
            servers.stop_process(pid)
        # The record goes last: a home that could not be emptied still says whose it was.
        with contextlib.suppress(FileNotFoundError):  # another reaper emptied it first
            for child in home.path.iterdir():
                if child.name != OWNER_FILE and child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                elif child.name != OWNER_FILE:
                    child.unlink(missing_ok=True)
            if {p.name for p in home.path.iterdir()} <= {OWNER_FILE}:
                shutil.rmtree(home.path, ignore_errors=True)
    return not home.path.exists()


def reap_homes() -> list[Home]:
    """Delete every home whose owner is gone (stopping its server) and every expired record-less one."""
    return [h for h in homes() if (h.orphaned or _unrecorded_expired(h)) and remove(h)]


def reap_once() -> None:
    """Reap at most once per process: the cheap check every command runs first."""
    global _reaped_in_process
    if _reaped_in_process or os.environ.get("DBOPS_NO_REAP"):
        return
    _reaped_in_process = True
    with contextlib.suppress(OSError):
        servers.reap()
    with contextlib.suppress(OSError):
        reap_homes()


def idle_stop_for(owner: Path, idle: float) -> float:
    """The idle stop of a server: at most :data:`TEMPORARY_IDLE_STOP` for a project in the temp folder (0 stays 0)."""
    roots = {Path(tempfile.gettempdir()).resolve()}
    if os.environ.get("PYTEST_DEBUG_TEMPROOT"):  # where pytest then keeps its tmp_path folders
        roots.add(Path(os.environ["PYTEST_DEBUG_TEMPROOT"]).resolve())
    if idle > 0 and any(owner.is_relative_to(root) for root in roots):
        return min(idle, TEMPORARY_IDLE_STOP)
    return idle


def describe(home: Home) -> str:
    """One line for ``db.status --all``."""
    pids = home.postmasters()
    state = f"running pid {', '.join(map(str, pids))}" if pids else "stopped"
    if not home.owner:
        return f"embedded home {home.path} ({state}), no owner record: deleted once unused for a day and stopped"
    return f"embedded home {home.path} ({state}), owner {home.owner}{' [ORPHANED]' if home.orphaned else ''}"
