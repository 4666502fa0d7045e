"""The review's own rules: findings from what PostgreSQL did with each statement, each with a fix that works in Alembic.

A rule fires on a measurement, never on the spelling alone: an index built on a table the same
revision created takes no lock anyone waits for, a SET NOT NULL that a valid CHECK already proves
scans nothing, a type change PostgreSQL does in place rewrites nothing, and none of them is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dbops.checks.review.measure import MODES, Measured, Relation, Run
from dbops.core.findings import ERROR, Finding

RULES = {
    "M1": "M1-index-not-concurrent",
    "M2": "M2-constraint-validated",
    "M3": "M3-set-not-null",
    "M4": "M4-table-rewrite",
    "M5": "M5-volatile-default",
    "M6": "M6-unique-not-concurrent",
    "M7": "M7-breaks-running-code",
    "M8": "M8-no-lock-timeout",
    "M9": "M9-many-exclusive-locks",
    "M10": "M10-enum-in-transaction",
    "M11": "M11-fails-on-data",
}
AUTOCOMMIT = "with op.get_context().autocommit_block():"
EXCLUSIVE = "AccessExclusiveLock"

_CREATE_INDEX = re.compile(r"^CREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.I)
_DROP_INDEX = re.compile(r"^DROP\s+INDEX\b(?!\s+CONCURRENTLY)", re.I)
_VALIDATED = re.compile(r"\bADD\s+CONSTRAINT\s+(\S+)\s+(FOREIGN\s+KEY|CHECK)\b", re.I)
_NOT_VALID = re.compile(r"\bNOT\s+VALID\b", re.I)
_ALTER_TABLE = re.compile(r"^ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?(\S+)", re.I)
_SET_NOT_NULL = re.compile(r"\bALTER\s+(?:COLUMN\s+)?(\S+)\s+SET\s+NOT\s+NULL\b", re.I)
_ADD_COLUMN = re.compile(r"\bADD\s+(?:COLUMN\s+)?(?!CONSTRAINT\b)(\S+)", re.I)
_UNIQUE = re.compile(r"\bADD\s+(?:CONSTRAINT\s+(\S+)\s+)?(UNIQUE|PRIMARY\s+KEY)\b(?!.*\bUSING\s+INDEX\b)", re.I | re.S)
_ADD_VALUE = re.compile(r"^ALTER\s+TYPE\s+(\S+)\s+ADD\s+VALUE\b", re.I)
_TYPE_CHANGE = re.compile(r"\bALTER\s+(?:COLUMN\s+)?(\S+)\s+(?:SET\s+DATA\s+)?TYPE\b", re.I)
LOCK_TIMEOUT = re.compile(r"\block_timeout\b", re.I)


def _unquote(name: str) -> str:
    return name.replace('"', "").split(".")[-1]


def short(sql: str, limit: int = 110) -> str:
    """The statement on one line, cut to ``limit`` characters."""
    flat = " ".join(sql.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@dataclass
class Context:
    """What the rules know besides the measurements: where the revision is and what came before it."""

    revision: str
    where: str  # the revision file, relative to the project
    parent: str
    data: str | None = None  # "seed" or "dev": the copy holds rows
    lock_timeout_in_env: bool = False
    # Tables and "table.column" that revisions reviewed in this run created: not the previous release's.
    created: set[str] = field(default_factory=set)
    allow_tables: tuple[str, ...] = ()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _timing(m: Measured, ctx: Context) -> str:
    """How long the statement ran and held its locks; with data, per 1000 rows of the tables it locked."""
    text = f"ran {_ms(m.seconds)}, locks held {_ms(m.held)} to the end of its transaction"
    rows = sum(m.rows.values())
    if ctx.data and m.rows:
        tables = ", ".join(sorted(m.rows))
        # Per 1000 rows only where there are that many: a few rows say nothing about a large table.
        rate = f"{_ms(m.seconds * 1000 / rows)} per 1000 rows of " if rows >= 1000 else "on "
        text += f"; {rate}{rows} rows in {tables}"
    return text


def _locked(m: Measured, kinds: tuple[str, ...] = ("table",)) -> list[tuple[Relation, str]]:
    return [(rel, mode) for rel, mode in m.locks if rel.kind in kinds]


def _lock_text(locks: Iterable[tuple[Relation, str]]) -> str:
    best: dict[str, str] = {}
    order = list(MODES)
    for rel, mode in locks:
        if rel.table not in best or order.index(mode) > order.index(best[rel.table]):
            best[rel.table] = mode
    return ", ".join(f"{MODES[mode]} on {table}" for table, mode in sorted(best.items()))


class _Findings:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.out: list[Finding] = []

    def add(self, code: str, m: Measured, what: str, why: str, fix: str) -> None:
        ctx = self.ctx
        where = f"{ctx.where}:{m.statement.line}" if m.statement.line else ctx.where
        message = f"{ctx.revision}: `{short(m.statement.sql)}` {what} ({_timing(m, ctx)}): {why}"
        self.out.append(Finding(RULES[code], ERROR, where, message, fix))


def _index_rules(f: _Findings, m: Measured) -> None:
    sql = m.statement.sql
    tables = _locked(m)
    if _CREATE_INDEX.search(sql) and tables:
        f.add(
            "M1",
            m,
            f"took {_lock_text(tables)} (measured) for the whole build",
            "every INSERT, UPDATE and DELETE on the table waits until the index is built",
            f"{AUTOCOMMIT} op.create_index(..., postgresql_concurrently=True)",
        )
    if _DROP_INDEX.search(sql) and _locked(m, ("index",)):
        f.add(
            "M1",
            m,
            f"took {_lock_text(tables or _locked(m, ('index',)))} (measured)",
            "every query on the table waits until the drop commits",
            f"{AUTOCOMMIT} op.drop_index(..., postgresql_concurrently=True)",
        )
    unique, altered = _UNIQUE.search(sql), _ALTER_TABLE.search(sql)
    if unique and altered and tables:
        table = _unquote(altered.group(1))
        name = _unquote(unique.group(1) or f"uq_{table}")
        f.add(
            "M6",
            m,
            f"built its index under {_lock_text(tables)} (measured)",
            "writes (and with ACCESS EXCLUSIVE, reads) wait for the whole index build",
            f'{AUTOCOMMIT} op.create_index("{name}", "{table}", [...], unique=True, postgresql_concurrently=True); '
            f'then op.execute("ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")',
        )


def _scan_rules(f: _Findings, m: Measured) -> None:
    sql = m.statement.sql
    scanned = [rel for rel in m.scanned if rel.kind == "table"]
    table_match = _ALTER_TABLE.search(sql)
    if not scanned or not table_match:
        return
    table = _unquote(table_match.group(1))
    names = ", ".join(sorted({rel.name for rel in scanned}))
    constraint = _VALIDATED.search(sql)
    if constraint and not _NOT_VALID.search(sql):
        name = _unquote(constraint.group(1))
        f.add(
            "M2",
            m,
            f"read every row of {names} to validate {name} under {_lock_text(m.locks)} (measured)",
            "writes wait for the whole scan, and it fails once one existing row breaks the rule",
            f'add it NOT VALID (op.execute("ALTER TABLE {table} ADD CONSTRAINT {name} ... NOT VALID")), then '
            f'op.execute("ALTER TABLE {table} VALIDATE CONSTRAINT {name}") in a later revision (writes go on)',
        )
    not_null = _SET_NOT_NULL.search(sql)
    if not_null:
        column = _unquote(not_null.group(1))
        check = f"ck_{table}_{column}_not_null"
        f.add(
            "M3",
            m,
            f"read every row of {names} under {_lock_text(m.locks)} (measured)",
            "every read and write of the table waits for the scan, and it fails once a row holds NULL",
            f'op.execute("ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID"); '
            f'in a later revision op.execute("ALTER TABLE {table} VALIDATE CONSTRAINT {check}"), then '
            f'op.alter_column("{table}", "{column}", nullable=False) (no scan) and '
            f'op.drop_constraint("{check}", "{table}")',
        )


def _rewrite_rules(f: _Findings, m: Measured) -> None:
    rewritten = [rel for rel in m.rewritten if rel.kind == "table"]
    indexes = [rel for rel in m.rewritten if rel.kind == "index"]
    if not rewritten and not indexes:
        return
    sql = m.statement.sql
    what = ", ".join(sorted({rel.name for rel in rewritten}) or [f"index {rel.name}" for rel in indexes])
    if rewritten and indexes:
        what += f" and {len(indexes)} of its indexes"
    measured = f"rewrote {what} (new relfilenode, measured) under {_lock_text(m.locks)}"
    added = _ADD_COLUMN.search(sql)
    if added and _ALTER_TABLE.search(sql) and not _TYPE_CHANGE.search(sql):
        f.add(
            "M5",
            m,
            measured,
            "a volatile default is computed for every existing row: the table is copied while nothing may read it",
            f"add {_unquote(added.group(1))} without a default (or with a constant one), then set the default with "
            "op.alter_column(..., server_default=...) and fill the existing rows in batches",
        )
        return
    f.add(
        "M4",
        m,
        measured,
        "the whole table is copied while every read and write waits",
        "expand and contract: add a new column of the new type, fill it in batches, switch the code, drop the old "
        "column in a later release (or a change PostgreSQL makes in place, e.g. varchar(n) to longer or text)",
    )


def _breaking_rules(f: _Findings, m: Measured, ctx: Context) -> None:
    def mapped(name: str) -> bool:
        table = name.split(".")[0]
        return name not in ctx.created and table not in ctx.created and table not in ctx.allow_tables

    for old, new in m.renamed:
        if mapped(old):
            f.add(
                "M7",
                m,
                f"renamed {old} to {new} (measured)",
                f"the previous release's code still reads {old}: every running copy fails until it is replaced",
                f"expand and contract over two releases: add {new}, write both, backfill, move the reads; "
                f"drop {old} only in the release after",
            )
    for old in m.dropped:
        if mapped(old):
            f.add(
                "M7",
                m,
                f"dropped {old} (measured)",
                f"the previous release's models still map {old}: its running copies fail until they are replaced",
                f"drop {old} one release after the code and models stopped using it",
            )


def _lock_rules(f: _Findings, measured: list[Measured], ctx: Context) -> None:
    timeout = ctx.lock_timeout_in_env
    warned = False
    exclusive: dict[int, list[tuple[Measured, list[str]]]] = {}
    for m in measured:
        if LOCK_TIMEOUT.search(m.statement.sql):
            timeout = True
        tables = sorted({rel.table for rel, mode in m.locks if mode == EXCLUSIVE})
        if not tables:
            continue
        if not timeout and not warned and not m.outside:
            warned = True
            f.add(
                "M8",
                m,
                f"takes ACCESS EXCLUSIVE on {', '.join(tables)} (measured) with no lock_timeout set",
                "while it waits behind any long query, every read and write of the table queues behind it",
                "op.execute(\"SET LOCAL lock_timeout = '5s'\") first in upgrade() (or once in env.py), and retry",
            )
        if m.statement.transaction:
            exclusive.setdefault(m.statement.transaction, []).append((m, tables))
    for locked in exclusive.values():
        order: list[str] = []
        for _m, tables in locked:
            order += [t for t in tables if t not in order]
        if len(order) < 2:
            continue
        second = next(m for m, tables in locked if set(tables) - {order[0]})
        f.add(
            "M9",
            second,
            f"holds ACCESS EXCLUSIVE on {len(order)} tables at once in one transaction: {', '.join(order)} (measured)",
            "the tables locked first stay blocked while the next lock is waited for, and two such migrations or "
            "queries deadlock",
            "one table per transaction: split the revision (transaction_per_migration=True in env.py), "
            "and set lock_timeout",
        )


def _failure_rules(f: _Findings, measured: list[Measured], ctx: Context, server_version: int) -> None:
    failed = next((m for m in measured if m.error), None)
    for m in measured:
        enum = _ADD_VALUE.search(m.statement.sql)
        if not enum or not m.statement.in_transaction:
            continue
        unsafe = failed is not None and failed.sqlstate == "55P04"
        if unsafe or server_version < 120000 or m.error:
            f.add(
                "M10",
                m,
                f"adds a value to enum {_unquote(enum.group(1))} inside a transaction"
                + (f"; then `{short(failed.statement.sql, 60)}` failed (measured): {failed.error}" if failed else ""),
                "a new enum value cannot be used before its transaction commits (and before PostgreSQL 12 cannot "
                "be added in one at all)",
                f'{AUTOCOMMIT} op.execute("ALTER TYPE {_unquote(enum.group(1))} ADD VALUE ...")',
            )
            if unsafe:
                return
    if failed is None or (failed.sqlstate == "55P04"):
        return
    where = "the existing rows of the copy" if ctx.data else f"a database the history built to {ctx.parent}"
    f.add(
        "M11",
        failed,
        f"failed on {where} (measured): {failed.error}",
        "the migration stops here in production too, and everything after it is not measured",
        "make the existing data fit first (an UPDATE in this or an earlier revision), or add the constraint NOT VALID",
    )


def findings(run: Run, ctx: Context) -> list[Finding]:
    """The findings of one revision's measured run."""
    f = _Findings(ctx)
    for m in run.measured:
        if m.error:
            continue
        _index_rules(f, m)
        _scan_rules(f, m)
        _rewrite_rules(f, m)
        _breaking_rules(f, m, ctx)
    _lock_rules(f, [m for m in run.measured if not m.error], ctx)
    _failure_rules(f, run.measured, ctx, run.server_version)
    return f.out
