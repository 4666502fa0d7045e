"""Make sure env.py migrates the database dbops means, and no other.

Alembic runs the project's env.py, and env.py decides which database it opens: the connection in
``config.attributes``, ``sqlalchemy.url``, its own settings or an environment variable. dbops hands the
intended database over by every one of those channels and then checks, from inside each migration
run and before any step is applied, that the connection env.py configured reaches that database.

The check is a marker only the intended database can show: dbops's own connection holds a
session-level advisory lock with a random key, and the connection env.py chose must see that lock
in ``pg_locks`` for its own current database. A connection to another database (or another server)
cannot see it, so no step is handed out and nothing is changed there.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from dbops.core.errors import ConfigError
from dbops.core.urls import mask_url, plain_url

_LOCK = "SELECT pg_advisory_lock(:a, :b)"
_UNLOCK = "SELECT pg_advisory_unlock(:a, :b)"
# Two-key advisory locks appear in pg_locks as classid, objid with objsubid = 2.
_SEEN = """
SELECT EXISTS (
  SELECT 1 FROM pg_locks
  WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = :a AND objid = :b
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
)
"""

FIX = (
    'make env.py use the connection dbops hands over: connection = config.attributes.get("connection"), '
    "and when it is set, context.configure(connection=connection, target_metadata=...) then "
    "context.run_migrations() on it (use it as is; call .connect() on it only if it is an Engine)"
)


class WrongDatabase(ConfigError):
    """env.py opened another database than the one dbops means: exit 2, nothing changed."""


class Guard:
    """A per-run marker in the intended database and the test that a connection reaches it."""

    def __init__(self, conn: Connection, url: URL, env_py: Path) -> None:
        self.conn = conn
        self.url = url
        self.env_py = env_py
        # Positive 31-bit keys: classid and objid are unsigned oids in pg_locks.
        self.key = {"a": secrets.randbelow(2**31 - 1) + 1, "b": secrets.randbelow(2**31 - 1) + 1}
        conn.execute(text(_LOCK), self.key)
        conn.commit()

    def reaches(self, other: Any) -> bool:
        """True if ``other`` (the connection env.py configured) is connected to the intended database."""
        if other is self.conn:
            return True
        if not isinstance(other, Connection):
            return False  # offline mode, or something that is not a connection
        try:
            return bool(other.execute(text(_SEEN), self.key).scalar())
        except SQLAlchemyError:
            return False  # not PostgreSQL, or no access to pg_locks: not provably ours

    def release(self) -> None:
        """Drop the marker (it also goes away with the session)."""
        if not self.conn.closed:
            with contextlib.suppress(SQLAlchemyError):
                self.conn.rollback()
                self.conn.execute(text(_UNLOCK), self.key)
                self.conn.commit()

    def wrong_database(self) -> WrongDatabase:
        """The one line that says env.py opened another database, and the lines to add."""
        return WrongDatabase(
            f"{self.env_py} opened a database of its own instead of {mask_url(self.url)}; stopped before any change",
            FIX,
        )

    def not_run(self) -> WrongDatabase:
        """env.py returned without running the migrations online."""
        return WrongDatabase(
            f"{self.env_py} did not run the migrations on a database connection; nothing was changed",
            FIX,
        )


# Variables set for a running migration -> the value they had before; other threads that start child
# processes meanwhile must hand those children the original values (see original_environ).
_SAVED: dict[str, str | None] = {}
_ENV_LOCK = threading.Lock()


@contextlib.contextmanager
def database_env(names: tuple[str, ...], url: URL) -> Iterator[None]:
    """Set each ``names`` variable to ``url`` for the duration of a migration (env.py may read one)."""
    value = plain_url(url)
    with _ENV_LOCK:
        current = {name: os.environ.get(name) for name in names}
        mine = [name for name in names if name not in _SAVED]  # an outer call already remembers the rest
        _SAVED.update({name: current[name] for name in mine})
        for name in names:
            os.environ[name] = value
    try:
        yield
    finally:
        with _ENV_LOCK:
            for name in mine:
                _SAVED.pop(name, None)
            for name, old in current.items():
                if old is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old


def original_environ() -> dict[str, str]:
    """A copy of the environment without the URLs a running migration set (for starting child processes)."""
    with _ENV_LOCK:
        env = dict(os.environ)
        for name, old in _SAVED.items():
            if old is None:
                env.pop(name, None)
            else:
                env[name] = old
    return env
