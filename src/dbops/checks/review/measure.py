"""Run a revision's SQL statement by statement on a copy of the database at its parent, and record what PostgreSQL did.

After each statement, still inside its transaction, the migrating session reads from PostgreSQL
itself: the locks it holds (``pg_locks`` of its own pid) on relations that existed before the
revision, which of those relations got a new file (``pg_class.relfilenode``: a rewrite), which tables
were read in full (``pg_stat_xact_all_tables.seq_scan``: a validation scan), and which columns and
tables of before are gone or renamed. Statements Alembic runs outside a transaction
(``autocommit_block``, ``CONCURRENTLY``) run outside one here too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from dbops.core import database

_EXISTING = """
SELECT c.oid, n.nspname, c.relname, c.relkind, coalesce(i.indrelid, 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
"""
_STATE = """
SELECT c.oid, c.relname, c.relfilenode, coalesce(s.seq_scan, 0)
FROM pg_class c LEFT JOIN pg_stat_xact_all_tables s ON s.relid = c.oid
WHERE c.oid = ANY(%s)
"""
_LOCKS = "SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted"
_COLUMNS = (
    "SELECT attrelid, attnum, attname FROM pg_attribute WHERE attrelid = ANY(%s) AND attnum > 0 AND NOT attisdropped"
)
# Lock modes as pg_locks names them, weakest first, and as a reader knows them.
MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
_OUTSIDE = re.compile(
    r"\bCONCURRENTLY\b|^\s*(VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|REINDEX\s+.*CONCURRENTLY)\b", re.I
)


@dataclass(frozen=True)
class Statement:
    """One statement as Alembic emitted it: its SQL, the revision file's line that emitted it, its transaction."""

    sql: str
    line: int | None
    in_transaction: bool
    transaction: int = 0  # which of the step's transactions (counted from 1); 0 outside any


# Alembic's own bookkeeping (its version table, whatever env.py names it): not the revision's statements.
_BOOKKEEPING = re.compile(
    r"^(?:CREATE\s+TABLE|INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+((?:\"[^\"]+\"|\w+)(?:\.(?:\"[^\"]+\"|\w+))?)"
    r".*\bversion_num\b",
    re.I | re.S,
)


def statements(chunks: Iterable[dict[str, Any]]) -> tuple[list[Statement], set[str]]:
    """The agent's offline output as statements (comments and the version table's bookkeeping left out), and
    the version table's name."""
    out: list[Statement] = []
    version_tables: set[str] = set()
    in_transaction, number = False, 0
    for chunk in chunks:
        sql = str(chunk["sql"]).strip()
        body = sql.rstrip(";").strip()
        if not body or body.startswith("--"):
            continue
        word = body.upper()
        bookkeeping = _BOOKKEEPING.match(body) if chunk.get("line") is None else None
        if word in ("BEGIN", "BEGIN TRANSACTION", "START TRANSACTION"):
            in_transaction, number = True, number + 1
        elif word in ("COMMIT", "END", "COMMIT TRANSACTION"):
            in_transaction = False
        elif bookkeeping:
            version_tables.add(bookkeeping.group(1).split(".")[-1].strip('"'))
        else:
            out.append(Statement(body, chunk.get("line"), in_transaction, number if in_transaction else 0))
    return out, version_tables


@dataclass(frozen=True)
class Relation:
    """A relation that existed before the revision: table, index (with its table) or materialized view."""

    oid: int
    schema: str
    name: str
    kind: str
    table: str  # the relation itself for a table, the indexed table for an index


@dataclass
class Measured:
    """What one statement did, as PostgreSQL recorded it."""

    statement: Statement
    seconds: float = 0.0
    # (relation, mode) of the locks first taken by this statement on relations that existed before.
    locks: list[tuple[Relation, str]] = field(default_factory=list)
    rewritten: list[Relation] = field(default_factory=list)
    scanned: list[Relation] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # "table" or "table.column" of before
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old, new)
    error: str = ""
    sqlstate: str = ""
    # Ran outside a transaction (autocommit): its locks ended with it and could not be read.
    outside: bool = False
    # Seconds from this statement's start to the end of its transaction: how long its locks were held.
    held: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)  # rows of the tables it locked (with data)


@dataclass
class Run:
    """Every statement of one revision as run, and what the revision created (for the next revisions)."""

    measured: list[Measured] = field(default_factory=list)
    created: set[str] = field(default_factory=set)  # "table" and "table.column" that did not exist before
    server_version: int = 0


class Probe:
    """The migrating session's view of the relations of before."""

    def __init__(self, conn: psycopg.Connection, exclude: set[str]) -> None:
        self.conn = conn
        self.relations: dict[int, Relation] = {}
        rows = conn.execute(_EXISTING).fetchall()
        names: dict[int, str] = {oid: name for oid, _, name, _, _ in rows}
        for oid, schema, name, kind, table_oid in rows:
            if name in exclude or names.get(table_oid) in exclude:
                continue
            table = str(names.get(table_oid, name) if kind in ("i", "I") else name)
            self.relations[oid] = Relation(oid, schema, name, "index" if kind in ("i", "I") else "table", table)
        self.tables = [oid for oid, rel in self.relations.items() if rel.kind == "table"]

    def state(self) -> dict[int, tuple[str, int, int]]:
        rows = self.conn.execute(_STATE, (list(self.relations),)).fetchall()
        return {oid: (name, node, scans) for oid, name, node, scans in rows}

    def locks(self) -> set[tuple[int, str]]:
        return {(oid, mode) for oid, mode in self.conn.execute(_LOCKS).fetchall() if oid in self.relations}

    def columns(self) -> dict[tuple[int, int], str]:
        rows = self.conn.execute(_COLUMNS, (self.tables,)).fetchall()
        return {(rel, num): name for rel, num, name in rows}

    def snapshot(self) -> tuple[dict[int, tuple[str, int, int]], set[tuple[int, str]], dict[tuple[int, int], str]]:
        return self.state(), self.locks(), self.columns()


def compare(probe: Probe, m: Measured, before: Any, after: Any) -> None:
    """Fill ``m`` with the differences between two snapshots."""
    (state0, locks0, cols0), (state1, locks1, cols1) = before, after
    rels = probe.relations
    m.locks = [(rels[oid], mode) for oid, mode in sorted(locks1 - locks0)]
    for oid, (name, node, scans) in state1.items():
        old = state0.get(oid)
        if old is None:
            continue
        if node != old[1]:
            m.rewritten.append(rels[oid])
        if scans > old[2]:
            m.scanned.append(rels[oid])
        if name != old[0] and rels[oid].kind == "table":
            m.renamed.append((old[0], name))
    for oid in state0.keys() - state1.keys():
        if rels[oid].kind == "table":
            m.dropped.append(state0[oid][0])
    table_names = {oid: state1.get(oid, state0.get(oid, ("?",)))[0] for oid in probe.tables}
    for key, name in cols0.items():
        if key[0] not in state1:
            continue  # the table went: named above
        if key not in cols1:
            m.dropped.append(f"{table_names[key[0]]}.{name}")
        elif cols1[key] != name:
            m.renamed.append((f"{table_names[key[0]]}.{name}", f"{table_names[key[0]]}.{cols1[key]}"))


def _names(conn: psycopg.Connection) -> set[str]:
    """Every user table and "table.column" in the database now."""
    rows = conn.execute(
        "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg\\_%%'"
    ).fetchall()
    return {table for table, _ in rows} | {f"{table}.{column}" for table, column in rows if column}


def _fail(m: Measured, exc: psycopg.Error) -> None:
    m.error = database.server_message(exc)
    m.sqlstate = getattr(exc, "sqlstate", None) or ""


class _Session:
    """The migrating session: which transaction is open, and the statements that hold locks in it."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.open: list[Measured] = []
        self.in_transaction = False
        # Seconds spent reading snapshots, and the count when each open statement started: not the migration's.
        self.overhead = 0.0
        self.overhead_at: dict[int, float] = {}

    def start(self, m: Measured) -> float:
        """Mark ``m`` as starting now; the time."""
        m.held = now = time.perf_counter()
        self.overhead_at[id(m)] = self.overhead
        return now

    def begin(self) -> None:
        if not self.in_transaction:
            self.conn.execute("BEGIN")
            self.in_transaction = True

    def end(self, commit: bool) -> None:
        """Commit (or roll back) the open transaction; its statements held their locks until now."""
        if not self.in_transaction:
            return
        now = time.perf_counter()
        self.conn.execute("COMMIT" if commit else "ROLLBACK")
        for m in self.open:
            # m.held kept the statement's start until now; the snapshots taken since are dbops's time, not its.
            m.held = now - m.held - (self.overhead - self.overhead_at.pop(id(m), self.overhead))
        self.open.clear()
        self.in_transaction = False


def _timed(session: _Session, probe: Probe) -> Any:
    """A snapshot, its time counted as dbops's own."""
    started = time.perf_counter()
    snap = probe.snapshot()
    session.overhead += time.perf_counter() - started
    return snap


def _count(conn: psycopg.Connection, rel: Relation, counted: dict[str, int]) -> int:
    if rel.table not in counted:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(rel.schema, rel.table))
        row = conn.execute(query).fetchone()
        counted[rel.table] = int(row[0]) if row else 0
    return counted[rel.table]


def run_statements(url: Any, stmts: list[Statement], exclude: set[str], count_rows: bool) -> Run:
    """Run ``stmts`` on the database at ``url`` (a throwaway copy) and measure each; stop at the first failure."""
    run = Run()
    with database.connect(url) as conn:
        run.server_version = conn.info.server_version
        probe = Probe(conn, exclude)
        names0 = _names(conn)
        session = _Session(conn)
        counted: dict[str, int] = {}
        for stmt in stmts:
            m = Measured(stmt)
            run.measured.append(m)
            if not stmt.in_transaction:
                session.end(True)  # Alembic's transaction ended before this statement
            # A statement Alembic runs on its own is wrapped in a transaction of its own, so its locks can be read.
            m.outside = not stmt.in_transaction and bool(_OUTSIDE.search(stmt.sql))
            if not m.outside:
                session.begin()
            before = _timed(session, probe)
            started = session.start(m)
            try:
                try:
                    conn.execute(stmt.sql.encode())
                except pg_errors.ActiveSqlTransaction:
                    if stmt.in_transaction:
                        raise  # inside Alembic's own transaction it fails the same way
                    session.end(False)
                    m.outside = True
                    before = _timed(session, probe)
                    started = session.start(m)
                    conn.execute(stmt.sql.encode())
            except psycopg.Error as exc:
                m.seconds = time.perf_counter() - started
                _fail(m, exc)
                session.open.append(m)
                session.end(False)
                break
            m.seconds = time.perf_counter() - started
            compare(probe, m, before, _timed(session, probe))
            if m.outside:
                m.locks, m.held = [], m.seconds  # they ended with the statement
            else:
                session.open.append(m)
            if count_rows:
                counting = time.perf_counter()
                for rel, _mode in m.locks:
                    m.rows[rel.table] = _count(conn, rel, counted)
                session.overhead += time.perf_counter() - counting
            if not stmt.in_transaction:
                session.end(True)
        session.end(True)
        run.created = _names(conn) - names0
    return run
