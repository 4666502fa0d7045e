"""The idle stop of an embedded cluster: a small detached process that stops the server nobody uses.

PostgreSQL has no idle shutdown of its own. The watchdog polls the server: while any client is
connected, or a dbops command touched the cluster's ``last-use`` file, the server is in use. After
``idle`` seconds without either it asks the postmaster for a fast shutdown. It exits with the server.
Run as ``python -m dbops.backends.watchdog --pid PID --data DIR --port PORT --home HOME --idle SECONDS``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from dbops.backends import servers

LAST_USE = "last-use"


def touch_last_use(home: Path) -> None:
    """Mark the cluster as used now (every dbops command that starts or reaches it does)."""
    (home / LAST_USE).touch()


def _clients(port: int, password: str) -> int | None:
    """Client connections other than ours, or None if the server cannot be asked (then it counts as busy)."""
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="postgres",
            password=password,
            dbname="postgres",
            connect_timeout=5,
            application_name="dbops-watchdog",
        ) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def watch(pid: int, data: str, port: int, home: Path, idle: float) -> bool:
    """Wait until the server is idle for ``idle`` seconds (then stop it: True) or stops by itself (False)."""
    password = (home / "password").read_text().strip()
    interval = max(0.5, min(30.0, idle / 4))
    last_active = time.time()
    while servers.postmaster_alive(pid, data):
        time.sleep(interval)
        now = time.time()
        try:
            last_active = max(last_active, (home / LAST_USE).stat().st_mtime)
        except OSError:
            pass
        clients = _clients(port, password)
        if clients is None or clients > 0:
            last_active = now
        elif now - last_active >= idle and servers.postmaster_alive(pid, data):
            servers.stop_process(pid)
            return True
    return False


def spawn(pid: int, data: Path, port: int, home: Path, idle: float) -> int:
    """Start a detached watchdog for one server; return its pid."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dbops.backends.watchdog",
            *("--pid", str(pid), "--data", str(data), "--port", str(port), "--home", str(home), "--idle", str(idle)),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # outlives the command, and a Ctrl-C in the terminal does not reach it
        close_fds=True,
        cwd="/",
        env={**os.environ, "DBOPS_NO_REAP": "1"},
    )
    return proc.pid


def main(argv: list[str] | None = None) -> int:
    """Entry point of the detached process."""
    parser = argparse.ArgumentParser(prog="python -m dbops.backends.watchdog", description=main.__doc__)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--idle", type=float, required=True)
    args = parser.parse_args(argv)
    watch(args.pid, args.data, args.port, args.home, args.idle)
    entry = servers.lookup("embedded", args.data)
    if entry is not None and entry.pid == args.pid:
        servers.forget(entry)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
