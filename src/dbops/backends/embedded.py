"""The ``embedded`` backend: a throwaway PostgreSQL cluster under the project's cache directory.

The cluster is kept between commands (that is what makes them fast) and stopped by ``db.stop``.
It listens on 127.0.0.1 only, on a free port, and runs with fsync off: its data is disposable.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

from dbops.backends import orphans, servers
from dbops.backends.base import Backend
from dbops.backends.pgbin import PgBin, find_pgbin, read_postmaster_pid
from dbops.backends.watchdog import spawn as spawn_watchdog
from dbops.backends.watchdog import touch_last_use
from dbops.core.database import wait_ready
from dbops.core.dburl import URL
from dbops.core.errors import BackendUnavailable, ConfigError, command_hint
from dbops.core.locks import file_lock
from dbops.core.ports import free_port, port_taken
from dbops.core.private import write_private

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    # Disposable data: durability buys nothing here and costs most of a reset's time.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "logging_collector": "off",
}


def _service_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, run it as ``postgres`` (or ``nobody``)."""
    if os.geteuid() != 0:
        return None
    for name in (os.environ.get("DBOPS_PG_USER", ""), "postgres", "nobody"):
        if name:
            with contextlib.suppress(KeyError):
                return pwd.getpwnam(name)
    raise BackendUnavailable(
        "running as root and no unprivileged user exists to run PostgreSQL", "create a user, e.g. useradd postgres"
    )


def _traversable(path: Path, uid: int) -> bool:
    """True if every folder above ``path`` lets ``uid`` pass through."""
    for folder in path.resolve().parents:
        if not folder.is_dir():
            continue  # created later by us (or not a folder at all, which start() reports)
        st = folder.stat()
        if not (st.st_mode & stat.S_IXOTH or st.st_uid == uid):
            return False
    return True


def _copy_install(install: Path, extra: list[Path], base: Path) -> None:
    """Copy a PostgreSQL installation to ``base`` through a private scratch folder and one atomic rename."""
    base.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{base.name}-", dir=base.parent))
    try:
        shutil.copytree(install, scratch / install.parent.name / install.name, symlinks=True)
        for folder in extra:
            if folder.is_dir():
                shutil.copytree(folder, scratch / folder.name, symlinks=True)
        os.chmod(scratch, 0o755)  # mkdtemp's 0700 would keep the service user out
        shutil.rmtree(base, ignore_errors=True)  # an incomplete copy from an older version
        try:
            scratch.rename(base)
        except OSError:
            if not base.is_dir():  # not "somebody else's complete copy is already there"
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class EmbeddedBackend(Backend):
    """A cluster started with initdb/pg_ctl from the system's PostgreSQL or the pgserver wheel."""

    name = "embedded"

    def __init__(self, settings):  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.user = _service_user()
        self.tmp_home: Path | None = None  # the temp-folder home, when the cluster lives there
        home = self.settings.cache_dir / "pg"
        existing = next((p for p in (home, *home.parents) if p.exists()), home)
        if self.user is not None and existing.is_dir() and not _traversable(home, self.user.pw_uid):
            # The service user cannot reach a cache inside e.g. /root: keep the cluster in /tmp instead.
            self.tmp_home = orphans.home_for(self.settings.cache_dir)
            home = self.tmp_home / "pg"
        self.home = home

    def _claim_tmp_home(self) -> None:
        """Record the owner in the temp-folder home before anything is written there, so it is never lost."""
        if self.tmp_home is not None:
            orphans.claim(self.tmp_home, self._owner())

    # -- files -----------------------------------------------------------------------------------
    def _data(self, pg: PgBin) -> Path:
        return self.home / f"data{pg.major}"

    def _state_file(self, pg: PgBin) -> Path:
        return self.home / f"state{pg.major}.json"

    def _read_state(self, pg: PgBin) -> dict[str, object]:
        try:
            data = json.loads(self._state_file(pg).read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _password(self) -> str:
        path = self.home / "password"
        if path.is_file():
            return path.read_text().strip()
        pw = secrets.token_urlsafe(18)
        write_private(path, pw)
        return pw

    def _run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, object] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        try:
            return subprocess.run(  # type: ignore[call-overload, no-any-return]
                args, capture_output=True, text=True, timeout=timeout, cwd=self.home, **kwargs
            )
        except subprocess.TimeoutExpired:
            raise BackendUnavailable(
                f"{Path(args[0]).name} did not finish within {timeout:.0f} s", "see " + str(self.home / "postgres.log")
            ) from None

    def _chown(self, path: Path) -> None:
        if self.user is None:
            return
        for p in (path, *path.rglob("*")) if path.is_dir() else (path,):
            os.chown(p, self.user.pw_uid, self.user.pw_gid)

    # -- lifecycle --------------------------------------------------------------------------------
    def _initdb(self, pg: PgBin, data: Path) -> None:
        """Create the cluster in a scratch folder and rename it, so an interrupted initdb leaves no half cluster."""
        scratch = data.with_name(data.name + ".init")
        shutil.rmtree(scratch, ignore_errors=True)
        pwfile = self.home / "initdb.pw"
        write_private(pwfile, self._password())
        self._chown(self.home)
        try:
            proc = self._run(
                [
                    pg.tool("initdb"),
                    "-D",
                    str(scratch),
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if proc.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise BackendUnavailable(f"initdb failed: {last}", f"check that {self.home} is writable")
        with (scratch / "postgresql.conf").open("a") as fh:
            fh.write("\ninclude_if_exists = 'dbops.conf'\n")
        scratch.rename(data)

    def _write_conf(self, data: Path, port: int) -> None:
        lines = [f"{k} = {v}" for k, v in {**SERVER_SETTINGS, "port": str(port)}.items()]
        (data / "dbops.conf").write_text("\n".join(lines) + "\n")
        self._chown(data / "dbops.conf")

    def _running(self, pg: PgBin, data: Path) -> bool:
        pid_file = data / "postmaster.pid"
        if not pid_file.exists():
            return False
        # What `pg_ctl status` checks, without its process: the pid file's postmaster is alive, and a postgres.
        pid = read_postmaster_pid(data)[0]
        if servers.process_alive(pid):
            with contextlib.suppress(OSError):
                if "postgres" in Path(f"/proc/{pid}/comm").read_text():
                    return True
        # The pid file names a dead process (or a reused pid): stale, postgres would refuse to start.
        pid_file.unlink(missing_ok=True)
        return False

    def _url(self, port: int) -> URL:
        return URL.create("postgresql+psycopg", "postgres", self._password(), "127.0.0.1", port, "postgres")

    def _reachable_pgbin(self) -> PgBin:
        """The binaries, copied next to the cluster when the service user cannot reach them (e.g. under /root)."""
        pg = find_pgbin(self.settings.pg_version)
        if self.user is None or _traversable(pg.bindir / "postgres", self.user.pw_uid):
            return pg
        # Keep the layout the binaries' RPATH expects: pgserver's point at ../../../pgserver.libs.
        install = pg.bindir.parent
        extra = [install.parent.parent / "pgserver.libs"] if pg.source == "pgserver" else []
        base = self.home.parent / f"pgbin{pg.major}"
        copy = base / install.parent.name / install.name
        if not (copy / "bin" / "postgres").is_file():
            self._claim_tmp_home()
            # Several processes (xdist workers) get here at once: one copies, the others wait and reuse.
            with file_lock(base.with_name(base.name + ".lock"), "waiting for another process copying PostgreSQL..."):
                if not (copy / "bin" / "postgres").is_file():
                    _copy_install(install, extra, base)
        return PgBin(copy / "bin", pg.major, pg.source)

    def start(self) -> URL:
        """Start the cluster if it is not running (creating it on first use); return its URL."""
        self._claim_tmp_home()
        pg = self._reachable_pgbin()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"cache directory {self.home} is not writable: {exc.strerror}",
                "set DBOPS_CACHE_DIR to a writable folder",
            ) from None
        if not os.access(self.home, os.W_OK):
            raise ConfigError(
                f"cache directory {self.home} is not writable", "set DBOPS_CACHE_DIR to a writable folder"
            )
        with file_lock(self.home / "start.lock", "waiting for another dbops command to start the embedded cluster..."):
            data = self._data(pg)
            if not (data / "PG_VERSION").is_file():
                shutil.rmtree(data, ignore_errors=True)
                self._initdb(pg, data)
            port = int(str(self._read_state(pg).get("port", 0))) or 0
            if self._running(pg, data):
                # The running server's own record of its port beats ours (the state file may be gone).
                url = self._url(read_postmaster_pid(data)[1] or port)
                wait_ready(url, timeout=10)
            else:
                url = self._start_server(pg, data, port)
            self._register(data, int(url.port or 0))
        return url

    def _owner(self) -> Path:
        """The folder whose removal makes the cluster an orphan: the cache directory, made to exist.

        With the cluster in the /tmp fallback home nothing else creates it; the checkout itself
        stands in when the cache directory cannot be created.
        """
        try:
            self.settings.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return self.settings.root.resolve()
        return self.settings.cache_dir.resolve()

    def _register(self, data: Path, port: int) -> None:
        """Record the server in the machine-wide registry and keep one idle-stop watchdog on it."""
        pid = read_postmaster_pid(data)[0]
        touch_last_use(self.home)
        entry = servers.lookup("embedded", str(data))
        watchdog = entry.watchdog if entry is not None and entry.pid == pid else 0
        owner = self._owner()
        idle = orphans.idle_stop_for(owner, self.settings.idle_stop)
        if entry is not None and servers.process_alive(watchdog):
            idle = entry.idle  # the running watchdog keeps the idle stop it was started with
        elif idle > 0:
            watchdog = spawn_watchdog(pid, data, port, self.home, idle)
        if entry is None or (entry.pid, entry.port, entry.watchdog, entry.owner) != (pid, port, watchdog, str(owner)):
            servers.record(
                servers.Server(
                    "embedded",
                    str(owner),
                    port,
                    pid=pid,
                    data=str(data),
                    home=str(self.home),
                    watchdog=watchdog,
                    started=time.time(),
                    idle=idle,
                )
            )

    def _start_server(self, pg: PgBin, data: Path, port: int) -> URL:
        log = self.home / "postgres.log"
        last = ""
        for _ in range(3):
            if not port or port_taken(port):
                port = free_port()
            self._write_conf(data, port)
            log.touch()
            self._chown(log)
            proc = self._run(
                [pg.tool("pg_ctl"), "start", "-w", "-t", "60", "-D", str(data), "-l", str(log)], timeout=90
            )
            if proc.returncode == 0:
                self._state_file(pg).write_text(json.dumps({"port": port, "major": pg.major, "bindir": str(pg.bindir)}))
                url = self._url(port)
                wait_ready(url, timeout=30)
                return url
            tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
            last = " / ".join(tail) or proc.stderr.strip()
            port = 0  # likely a port race: try another one
        raise BackendUnavailable(
            f"the embedded PostgreSQL did not start: {last[-300:]}",
            f"see {log}; `{command_hint('db.stop')}` then retry",
        )

    def stop(self) -> bool:
        """Stop the cluster (its data stays for the next start); True if it was running."""
        try:
            pg = self._reachable_pgbin()
        except BackendUnavailable:
            return False
        data = self._data(pg)
        running = self._running(pg, data)
        stopped = (
            running and self._run([pg.tool("pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(data)]).returncode == 0
        )
        entry = servers.lookup("embedded", str(data))
        if entry is not None:
            servers.stop_server(entry, delete_data=False)  # ends its watchdog and forgets it
        return stopped

    def destroy(self) -> None:
        """Stop the cluster and delete its data directory (a temp-folder home as a whole, record included)."""
        self.stop()
        shutil.rmtree(self.tmp_home or self.home, ignore_errors=True)

    def status(self) -> str:
        """Whether the cluster runs, where, and from which binaries."""
        try:
            pg = self._reachable_pgbin()
        except BackendUnavailable as exc:
            return f"embedded: {exc.message}"
        data = self._data(pg)
        running = self._running(pg, data)
        port = read_postmaster_pid(data)[1] if running else self._read_state(pg).get("port")
        state = "running" if running else "stopped"
        return f"embedded: PostgreSQL {pg.major} ({pg.source}) {state}, 127.0.0.1:{port}, data {data}"
