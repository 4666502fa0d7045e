"""Server-level operations: wait for a server, create, drop and clone databases, the reset guard."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Iterator

import psycopg
from psycopg import sql

from dbops.core import marker
from dbops.core.dburl import URL
from dbops.core.errors import DatabaseUnreachable, UnsafeOperation, command_hint
from dbops.core.urls import is_local, libpq_url, mask_text, mask_url, with_database

PROTECTED = frozenset({"postgres", "template0", "template1"})
# Tables up to this size are counted row by row when a database's contents are described; larger ones
# are taken from the planner's statistics (reltuples), which a fresh, never-analyzed table lacks.
COUNT_LIMIT_BYTES = 8 * 1024 * 1024
_AUTH_CODES = {"28P01", "28000"}


def is_connection_error(exc: BaseException) -> bool:
    """True for failures to reach or log in to the server (SQLSTATE classes 08, 28, 3D, or no session at all)."""
    state = getattr(exc, "sqlstate", None)
    return state is None or state[:2] in ("08", "28", "3D")


def describe_error(exc: BaseException, url: URL | str) -> DatabaseUnreachable:
    """Turn a driver error into one line that names the server (never the password)."""
    text = mask_text(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    where = mask_url(url)
    state = getattr(exc, "sqlstate", None)
    if state in _AUTH_CODES or "password authentication failed" in text:
        return DatabaseUnreachable(f"{where}: authentication failed", "check the user and password in DATABASE_URL")
    if state == "3D000" or "does not exist" in text:
        return DatabaseUnreachable(f"{where}: {text}", f"create it, or run `{command_hint('reset-db')}`")
    return DatabaseUnreachable(f"cannot connect to {where}: {text}", "is the server running? check host and port")


def connect(url: URL, autocommit: bool = True, timeout: float = 5.0) -> psycopg.Connection:
    """A psycopg connection to ``url``; failures become DatabaseUnreachable with the password masked."""
    try:
        return psycopg.connect(
            libpq_url(url), autocommit=autocommit, connect_timeout=max(1, int(timeout)), application_name=app_name()
        )
    except psycopg.Error as exc:
        raise describe_error(exc, url) from None


_admin = threading.local()


def app_name() -> str:
    """application_name for our sessions: pg_stat_activity shows which dbops process holds what."""
    return f"dbops-{os.getpid()}"


@contextlib.contextmanager
def admin(server: URL) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the server's maintenance database, reused within a thread.

    Server-level statements (exists, create, drop, rename) come in bursts; one connection
    per burst instead of one per statement saves a SCRAM handshake each time.
    """
    key = libpq_url(server)
    cache: dict[str, psycopg.Connection] = _admin.__dict__.setdefault("conns", {})
    conn = cache.get(key)
    if conn is not None and not (conn.closed or conn.broken):
        try:
            conn.execute("SELECT 1")  # the server may have restarted since: a round trip on loopback
        except psycopg.Error:
            conn.close()
    if conn is None or conn.closed or conn.broken:
        conn = cache[key] = connect(server)
    try:
        yield conn
    except psycopg.OperationalError:
        cache.pop(key, None)
        conn.close()
        raise


def wait_ready(url: URL, timeout: float = 30.0) -> None:
    """Poll until the server accepts connections to ``url``, or raise the last error."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            connect(url, timeout=min(5.0, timeout)).close()
            return
        except DatabaseUnreachable as exc:
            # Authentication and missing-database errors will not fix themselves.
            if "authentication failed" in exc.message or "does not exist" in exc.message:
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def exists(server: URL, name: str) -> bool:
    """True if database ``name`` exists on the server."""
    with admin(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


# Where a new database is made and marked before it gets its name: an interruption between CREATE DATABASE
# and the mark (two statements, no transaction can hold both) leaves this name, never an unmarked ``name``.
MAKING_PREFIX = "dbops_mk_"


def create(server: URL, name: str, template: str | None = None, strategy: str | None = None) -> URL:
    """Create database ``name`` (optionally cloned from ``template``), marked as dbops's; return its URL."""
    making = f"{MAKING_PREFIX}{hashlib.sha256(name.encode()).hexdigest()[:16]}"
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(making))
    if template:
        query += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        if strategy:
            query += sql.SQL(" STRATEGY {}").format(sql.Identifier(strategy))
    try:
        with admin(server) as conn:
            # A leftover of an interrupted create of this very name: dbops's own scratch, by its name.
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(making)))
            conn.execute(query)
            conn.execute(marker.mark(making))
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(making), sql.Identifier(name)))
    except psycopg.Error as exc:
        with contextlib.suppress(psycopg.Error), admin(server) as conn:  # the name was taken, say: no leftover
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(making)))
        raise DatabaseUnreachable(
            f"cannot create database {name!r}: {mask_text(str(exc).strip())}", "see the server log"
        ) from None
    return with_database(server, name)


def rename(server: URL, name: str, new: str, template: bool = False) -> None:
    """Rename database ``name`` to ``new`` (and make it a template); a driver error is the caller's to judge."""
    with admin(server) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(name), sql.Identifier(new)))
        if template:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true").format(sql.Identifier(new)))


def created_by_dbops(server: URL, name: str) -> bool | None:
    """Whether dbops created database ``name`` (it carries the mark); None if there is no such database."""
    with admin(server) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
    return None if row is None else marker.is_marked(row[0])


def contents(url: URL) -> str:
    """What a database holds, in words: "3 rows in 2 tables (counted)", or "about ..." from statistics."""
    with connect(url) as conn:
        tables = conn.execute(
            "SELECT n.nspname, c.relname, c.reltuples, pg_table_size(c.oid), has_table_privilege(c.oid, 'SELECT')"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_'"
        ).fetchall()
        rows, estimated = 0, False
        for schema, table, reltuples, size, readable in tables:
            # A never-analyzed table has no estimate (-1): it is counted whatever its size.
            if readable and (size <= COUNT_LIMIT_BYTES or reltuples < 0):
                query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table))
                counted = conn.execute(query).fetchone()
                rows += int(counted[0]) if counted else 0
            else:
                rows, estimated = rows + max(int(reltuples), 0), True
    how = "estimated from statistics for large tables" if estimated else "counted"
    return f"{'about ' if estimated else ''}{_plural(rows, 'row')} in {_plural(len(tables), 'table')} ({how})"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def guard_drop(server: URL, name: str, disposable: tuple[str, ...] = ()) -> None:
    """Refuse to drop protected databases, and databases on non-local hosts unless listed as disposable."""
    if name in PROTECTED:
        raise UnsafeOperation(
            f"refusing to drop {name!r}: it is a PostgreSQL system database", "choose another database name"
        )
    if not is_local(server) and name not in disposable:
        raise UnsafeOperation(
            f"refusing to drop database {name!r} on non-local host {server.host!r}",
            f'add "{name}" to disposable = [...] under [tool.dbops] if it is meant to be thrown away',
        )


def drop(server: URL, name: str, disposable: tuple[str, ...] = (), force: bool = True) -> bool:
    """Drop database ``name`` if it exists, after the guard; return True if it existed."""
    guard_drop(server, name, disposable)
    query = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
    if force:
        query += sql.SQL(" WITH (FORCE)")
    with admin(server) as conn:
        existed = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
        if existed:
            # A template cannot be dropped; clear the flag first.
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(name)))
            conn.execute(query)
    return existed


def list_databases(server: URL, prefix: str = "", newest_first: bool = False) -> list[str]:
    """Database names on the server starting with ``prefix``, by name (or newest first: a rename keeps the oid)."""
    order = "oid DESC" if newest_first else "datname"
    with admin(server) as conn:
        rows = conn.execute(
            # A prefix match, not LIKE: "_" in names like dbops_tpl_billing_head_ is no wildcard here.
            f"SELECT datname FROM pg_database WHERE left(datname, %s) = %s ORDER BY {order}",
            (len(prefix), prefix),
        ).fetchall()
    return [r[0] for r in rows]


def server_message(exc: BaseException) -> str:
    """The first line of what the server (or driver) said, whole: never the statement or its values."""
    orig = getattr(exc, "orig", None) or exc
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = primary or str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__
