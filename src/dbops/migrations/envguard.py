"""Make sure env.py migrates the database dbops means, and no other: the marker only that database shows.

Alembic runs the project's env.py (in the project's interpreter, see :mod:`dbops.project`), and env.py
decides which database it opens. dbops holds a session-level advisory lock with a random key on the
intended database; the agent hands a step to env.py only if the connection env.py configured sees that
lock in ``pg_locks`` for its own current database. A connection to another database (or another
server) cannot see it, so no step is handed out and nothing is changed there.
"""

from __future__ import annotations

import secrets

import psycopg

from dbops.core import database
from dbops.core.dburl import URL


class Guard:
    """A per-run marker in the intended database: an advisory lock dbops's own session holds."""

    def __init__(self, url: URL) -> None:
        # Positive 31-bit keys: classid and objid are unsigned oids in pg_locks.
        self.key = {"a": secrets.randbelow(2**31 - 1) + 1, "b": secrets.randbelow(2**31 - 1) + 1}
        self._conn = database.connect(url)
        self._conn.execute("SELECT pg_advisory_lock(%s, %s)", (self.key["a"], self.key["b"]))

    def release(self) -> None:
        """Drop the marker (it also goes away with the session)."""
        if not self._conn.closed:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (self.key["a"], self.key["b"]))
            except psycopg.Error:
                pass  # the session is gone, and the lock with it
            self._conn.close()
