"""C4: primary keys, foreign keys (target, ON DELETE), unique and CHECK constraints, indexes (predicates too).

Alembic compares indexes, unique constraints and foreign keys; what it does not see on PostgreSQL
(primary-key columns, CHECK constraints, index predicates) comes from the pg_catalog snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.base import _NoneName

from dbops.checks.context import CONSTRAINT_KINDS, CheckContext, new_revision_hint
from dbops.checks.sqlnorm import compile_expr, normalize_sql
from dbops.core.findings import ERROR, Finding

RULES = ("C4-constraints",)


def _name(item: Any) -> str | None:
    name = getattr(item, "name", None)
    return None if name is None or isinstance(name, _NoneName) else str(name)


def _columns(item: Any) -> list[str]:
    if isinstance(item, ForeignKeyConstraint):
        return list(item.column_keys)
    if isinstance(item, Index) and not item.columns:
        return [compile_expr(e) for e in item.expressions]
    return [c.name for c in item.columns]


def _describe(item: Any) -> tuple[str, str]:
    """(kind word, description) of an index or constraint from either side of Alembic's diff."""
    table = item.table.name
    cols = ", ".join(_columns(item))
    if isinstance(item, Index):
        where = item.dialect_options["postgresql"]["where"]
        extra = (", unique" if item.unique else "") + (f", where {compile_expr(where)}" if where is not None else "")
        return "index", f"on {table} ({cols}{extra})"
    if isinstance(item, ForeignKeyConstraint):
        targets = [e.target_fullname for e in item.elements]
        ref_table = targets[0].rsplit(".", 1)[0] if targets else "?"
        ref_cols = ", ".join(t.rsplit(".", 1)[-1] for t in targets)
        return (
            "foreign key",
            f"{table}({cols}) -> {ref_table}({ref_cols}) ON DELETE {(item.ondelete or 'NO ACTION').upper()}",
        )
    if isinstance(item, UniqueConstraint):
        return "unique constraint", f"on {table} ({cols})"
    return type(item).__name__, f"on {table} ({cols})"


class _PostgresCompiler:
    """What a type-bound constraint's create rule looks at: the dialect it is compiled for."""

    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]


def emitted_on_postgresql(con: CheckConstraint) -> bool:
    """False for CHECKs SQLAlchemy never emits on PostgreSQL (Boolean(create_constraint=True), native enums)."""
    rule: Callable[[Any], Any] | None = getattr(con, "_create_rule", None)
    if rule is None:
        return True
    try:
        return bool(rule(_PostgresCompiler()))
    except AttributeError:
        # A rule that asks more of the compiler than its dialect: the constraint is compared (a finding, if any, shows).
        return True


def _finding(obj: str, message: str, hint: str) -> Finding:
    return Finding(rule=RULES[0], severity=ERROR, object=obj, message=message, hint=hint)


def _alembic_findings(diffs: list[tuple[Any, ...]], missing_tables: set[str]) -> Iterator[Finding]:
    """Alembic's add/remove pairs of one name become one 'differs' finding; the rest are missing or extra."""
    added: dict[str, Any] = {}
    removed: dict[str, Any] = {}
    for diff in diffs:
        if diff[0] not in CONSTRAINT_KINDS:
            continue
        item = diff[1]
        if item.table.name in missing_tables:
            continue  # Alembic lists a missing table's indexes separately; C1 already covers them
        kind, desc = _describe(item)
        key = _name(item) or f"{item.table.name}({', '.join(_columns(item))})"
        (added if diff[0].startswith("add_") else removed)[f"{kind}\0{key}"] = item
    for key in sorted(set(added) | set(removed)):
        kind, obj = key.split("\0", 1)
        if key in added and key in removed:
            model, db = _describe(added[key])[1], _describe(removed[key])[1]
            yield _finding(
                obj, f"{kind} {obj} differs: model {model}, database {db}", new_revision_hint(f"alter {obj}")
            )
        elif key in added:
            desc = _describe(added[key])[1]
            yield _finding(
                obj, f"model {kind} {obj} {desc} does not exist in the database", new_revision_hint(f"add {obj}")
            )
        else:
            desc = _describe(removed[key])[1]
            yield _finding(
                obj,
                f"database {kind} {obj} {desc} is not declared by the model",
                f"declare it in the model or drop it with {new_revision_hint(f'drop {obj}')}",
            )


def _primary_keys(table: Table, db: dict[str, Any]) -> Iterator[Finding]:
    model_cols = [c.name for c in table.primary_key.columns]
    db_pks = {name: con for name, con in db["constraints"].items() if con["type"] == "primary key"}
    model_name = _name(table.primary_key)
    obj = model_name or next(iter(db_pks), f"{table.name} primary key")
    if not db_pks:
        if model_cols:
            yield _finding(
                obj,
                f"primary key of {table.name} ({', '.join(model_cols)}) is missing in the database",
                new_revision_hint(f"add primary key of {table.name}"),
            )
        return
    db_name, con = next(iter(db_pks.items()))
    if con["columns"] != model_cols:
        yield _finding(
            db_name,
            f"primary key of {table.name} differs: model ({', '.join(model_cols)}), "
            f"database ({', '.join(con['columns'])})",
            new_revision_hint(f"alter primary key of {table.name}"),
        )
    elif model_name and model_name != db_name:
        yield _finding(
            db_name,
            f"primary key of {table.name} is named {model_name} in the model, {db_name} in the database",
            new_revision_hint(f"rename {db_name}"),
        )


def _checks(table: Table, db: dict[str, Any]) -> Iterator[Finding]:
    model = {}
    unnamed = []
    for con in table.constraints:
        if isinstance(con, CheckConstraint) and emitted_on_postgresql(con):
            sql = compile_expr(con.sqltext)
            if _name(con):
                model[str(_name(con))] = sql
            else:
                unnamed.append(sql)
    db_checks = {name: con["definition"] for name, con in db["constraints"].items() if con["type"] == "check"}
    # Unnamed model checks get a name PostgreSQL chose; match those by expression.
    for sql in unnamed:
        match = next(
            (n for n, d in db_checks.items() if n not in model and normalize_sql(d) == normalize_sql(sql)), None
        )
        model[match or f"{table.name} CHECK ({sql})"] = sql
    for name in sorted(set(model) | set(db_checks)):
        if name not in db_checks:
            yield _finding(
                name,
                f"model CHECK constraint {name} ({model[name]}) on {table.name} does not exist in the database",
                new_revision_hint(f"add {name}"),
            )
        elif name not in model:
            yield _finding(
                name,
                f"database CHECK constraint {name} on {table.name} ({db_checks[name]}) is not declared by the model",
                f"declare it in the model or drop it with {new_revision_hint(f'drop {name}')}",
            )
        elif normalize_sql(model[name]) != normalize_sql(db_checks[name]):
            yield _finding(
                name,
                f"CHECK constraint {name} on {table.name} differs: "
                f"model CHECK ({model[name]}), database {db_checks[name]}",
                new_revision_hint(f"alter {name}"),
            )


def _where(sql: str) -> str:
    return f"WHERE {sql}" if sql else "no predicate"


def _predicates(table: Table, indexes: dict[str, Any], reported: set[str]) -> Iterator[Finding]:
    for index in table.indexes:
        name = _name(index)
        if not name or name in reported or name not in indexes:
            continue
        where = index.dialect_options["postgresql"]["where"]
        model_sql = compile_expr(where) if where is not None else ""
        db_sql = indexes[name]["predicate"] or ""
        if normalize_sql(model_sql) != normalize_sql(db_sql):
            yield _finding(
                name,
                f"index {name} on {table.name} differs in predicate: "
                f"model {_where(model_sql)}, database {_where(db_sql)}",
                new_revision_hint(f"alter {name}"),
            )


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Constraint and index findings: Alembic's diff first, then what only pg_catalog shows."""
    findings = list(_alembic_findings(ctx.diffs, set(ctx.missing_tables)))
    yield from findings
    reported = {f.object for f in findings}
    for name, table in sorted(ctx.model_tables.items()):
        db = ctx.catalog["tables"].get(name)
        if db is None:
            continue  # C1 reports the missing table; its constraints would only repeat that
        yield from _primary_keys(table, db)
        yield from _checks(table, db)
        yield from _predicates(table, ctx.catalog["indexes"], reported)
