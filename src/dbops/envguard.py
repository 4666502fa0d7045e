"""Only the database it means: hand env.py the database by every channel, refuse a run that went elsewhere.

An env.py written by ``alembic init`` ignores ``config.attributes["connection"]`` and opens
``sqlalchemy.url`` itself; others build a URL from their own settings. dbops therefore (1) points
every channel a project may read at the intended database for the duration of a run, and (2) checks,
when Alembic asks which revisions to run and before any of them runs, that the connection env.py
configured is a connection to that same database. If not, nothing has been changed yet and the run
stops with one line naming env.py and the lines to add.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from alembic.config import Config
from sqlalchemy.engine import URL, Connection

from dbops.errors import ConfigError
from dbops.urls import mask_url, plain_url

# The server instance (its start time), the port and the database's oid identify one database on a
# machine; names alone do not (two servers may each have a "billing").
_IDENTITY_SQL = (
    "SELECT pg_postmaster_start_time()::text, inet_server_port(), current_database(), "
    "(SELECT oid FROM pg_database WHERE datname = current_database())::int"
)
_ENV_LOCK = threading.Lock()

FIX = (
    'in env.py, use the connection dbops hands in: `connection = config.attributes.get("connection")`; '
    "when it is set, `context.configure(connection=connection, target_metadata=...)` and run the migrations on it"
)


def identity(conn: Connection) -> tuple[Any, ...]:
    """Which database a connection is connected to: (server start time, port, name, oid)."""
    row = conn.exec_driver_sql(_IDENTITY_SQL).one()
    return tuple(row)


def engine_like(conn: Connection) -> Connection:
    """Let env.py files that expect an Engine (``attributes["connection"].connect()``) use the connection.

    pytest-alembic's convention hands env.py an Engine; ours hands a Connection. ``connect()`` here
    yields the same connection without closing it, so both styles run on the one dbops checks.
    """
    if not hasattr(conn, "connect"):
        conn.connect = lambda: contextlib.nullcontext(conn)  # type: ignore[attr-defined]
    return conn


@contextlib.contextmanager
def every_channel(cfg: Config, url: URL, env_vars: tuple[str, ...]) -> Iterator[None]:
    """Point ``sqlalchemy.url`` and the URL environment variables at ``url`` for the duration."""
    raw = plain_url(url)
    # ConfigParser interpolates '%': a password with one must be doubled to survive.
    cfg.set_main_option("sqlalchemy.url", raw.replace("%", "%%"))
    with _ENV_LOCK:
        saved = {name: os.environ.get(name) for name in env_vars}
        os.environ.update(dict.fromkeys(env_vars, raw))
    try:
        yield
    finally:
        with _ENV_LOCK:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def check_same_database(used: Connection | None, ours: Connection, expected: tuple[Any, ...], url: URL) -> None:
    """Raise before any revision runs when env.py configured a connection to another database."""
    if used is ours:
        return
    if used is None:
        raise ConfigError(
            f"env.py ran the migrations without a connection (offline mode) instead of on {mask_url(url)}; "
            "nothing was changed",
            FIX,
        )
    if identity(used) != expected:
        raise ConfigError(
            f"env.py opened a database of its own instead of {mask_url(url)}; stopped before any change",
            FIX,
        )
