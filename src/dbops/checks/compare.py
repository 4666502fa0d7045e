"""Do the migrations produce the models? Two databases PostgreSQL built, compared catalog to catalog.

``models`` is the catalog (:func:`dbops.core.catalog.read_catalog`) of a scratch database that the
models' ``metadata.create_all()`` built; ``history`` is the catalog of a database the migrations built.
PostgreSQL parsed and printed both sides, so spellings that mean the same already read the same:
``(GEN_RANDOM_UUID())`` and ``gen_random_uuid()``, ``varchar`` and ``character varying``, ``int4`` and
``integer``, ``NUMERIC(10,2)`` and ``numeric(10, 2)``, ``timestamp`` and ``timestamp without time zone``,
``CHECK (x > 0)`` and ``CHECK ((x > 0))``, ``'a'`` and ``'a'::text``, an index's casing and whitespace.
The comparison is equality of that text; nothing is parsed. It is pure: no connection, no SQLAlchemy.

Only what PostgreSQL prints differently for one and the same thing is normalised:

- a column default ``nextval('<seq>'::regclass)`` of the sequence that very column owns (a table
  renamed by a migration keeps its old sequence name); serial against identity stays a difference
  (:func:`dbops.checks.compare_columns.column_default`);
- ``now()``, ``CURRENT_TIMESTAMP`` and ``transaction_timestamp()``, one function that PostgreSQL prints
  as written (:func:`dbops.checks.compare_columns.same_now`);
- a constraint's trailing ``NOT VALID`` (:func:`dbops.checks.compare_constraints.constraint_definition`).

What the models cannot express is not a finding: rows, views, functions, triggers, sequences no column
owns, extensions, column order (PostgreSQL cannot reorder columns), whether a constraint was validated.

Rules: C1-model-table (a model table the history lacks), C2-table-model (a history table no model
declares, minus the version table and ``allow_tables``), C3-columns (columns: type, nullability,
default, identity, generated expression, collation, the owned sequence's options; table and column
comments as warnings), C4-constraints (primary, foreign, unique, CHECK and exclusion constraints and
indexes, by definition and name), C5-enums (enum types: missing, labels or their order, orphans; domains).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from dbops.checks.compare_columns import compare_columns
from dbops.checks.compare_constraints import compare_constraints
from dbops.checks.hints import new_revision_hint
from dbops.core.catalog import VERSION_TABLE
from dbops.core.findings import ERROR, Finding, sort_key

C1 = "C1-model-table"
C2 = "C2-table-model"
C5 = "C5-enums"


def compare_catalogs(
    models: dict[str, Any],
    history: dict[str, Any],
    *,
    allow_tables: Iterable[str] = (),
    ignore_tables: Iterable[str] = (),
    version_table: str = VERSION_TABLE,
) -> list[Finding]:
    """Every difference between the models' catalog and the history's, as findings in report order.

    ``allow_tables``: history tables that need no model (no C2). ``ignore_tables``: tables left out on
    both sides (what env.py's filters leave out of autogenerate). The version table is never compared.
    """
    ignored = {*ignore_tables, version_table}
    model_tables = {name: spec for name, spec in models["tables"].items() if name not in ignored}
    db_tables = {name: spec for name, spec in history["tables"].items() if name not in ignored}
    both = sorted(set(model_tables) & set(db_tables))
    findings = [
        *_tables(model_tables, db_tables, set(allow_tables)),
        *compare_columns(models, history, both),
        *compare_constraints(models, history, both),
        *_enums(models, history, model_tables, db_tables),
        *_domains(models["domains"], history["domains"]),
    ]
    return sorted(findings, key=sort_key)


def _tables(model: dict[str, Any], db: dict[str, Any], allowed: set[str]) -> Iterator[Finding]:
    for name in sorted(set(model) - set(db)):
        yield Finding(
            C1,
            ERROR,
            name,
            f"model table {name} ({_columns(model[name])}) does not exist in the database; no migration creates it",
            new_revision_hint(f"add {name}"),
        )
    for name in sorted(set(db) - set(model) - allowed):
        yield Finding(
            C2,
            ERROR,
            name,
            f"database table {name} ({_columns(db[name])}) has no model",
            f"add a model for it, drop it with {new_revision_hint(f'drop {name}')}, "
            f'or list it in allow_tables = ["{name}"] under [tool.dbops]',
        )


def _columns(table: dict[str, Any]) -> str:
    count = len(table["columns"])
    return f"{count} column{'' if count == 1 else 's'}"


def _users(tables: dict[str, Any], enum: str) -> list[str]:
    """The "table.column"s holding the enum type ``enum`` (directly or as array elements)."""
    return [
        f"{table}.{column}"
        for table, spec in sorted(tables.items())
        for column, col in spec["columns"].items()
        if col.get("enum") == enum
    ]


def enum_difference(name: str, model: list[str], db: list[str]) -> tuple[str, str]:
    """(message, hint) for an enum type whose labels, or their order, differ between model and database."""
    missing = [v for v in model if v not in db]
    extra = [v for v in db if v not in model]
    parts = []
    if missing:
        parts.append(f"labels missing in the database: {', '.join(missing)}")
    if extra:
        parts.append(f"labels not in the model: {', '.join(extra)}")
    if not parts:
        parts.append("same labels in another order")
    message = f"enum type {name} differs: model ({', '.join(model)}), database ({', '.join(db)}); " + "; ".join(parts)
    only_added = not extra and [v for v in model if v in db] == db
    how = (
        "ALTER TYPE ... ADD VALUE" if only_added else "recreate the type (rename, create, ALTER COLUMN ... USING, drop)"
    )
    return message, f"{new_revision_hint(f'alter enum {name}')} and {how}"


def _enums(
    models: dict[str, Any], history: dict[str, Any], model_tables: dict[str, Any], db_tables: dict[str, Any]
) -> Iterator[Finding]:
    declared: dict[str, list[str]] = models["enums"]
    in_db: dict[str, list[str]] = history["enums"]
    for name, labels in sorted(declared.items()):
        if name not in in_db:
            users = _users(model_tables, name)
            # An enum only missing tables use arrives with them: C1 already says so.
            if users and all(user.split(".", 1)[0] not in db_tables for user in users):
                continue
            used = f" used by {', '.join(users)}" if users else ""
            yield Finding(
                C5,
                ERROR,
                name,
                f"enum type {name} ({', '.join(labels)}){used} does not exist in the database",
                new_revision_hint(f"add enum {name}"),
            )
        elif in_db[name] != labels:
            yield Finding(C5, ERROR, name, *enum_difference(name, labels, in_db[name]))
    # A type a table without a model uses (an allowed or ignored table, or one C2 reports) is no orphan.
    unmodelled = {name: spec for name, spec in history["tables"].items() if name not in model_tables}
    for name in sorted(set(in_db) - set(declared)):
        if _users(unmodelled, name):
            continue
        yield Finding(
            C5,
            ERROR,
            name,
            f"database enum type {name} ({', '.join(in_db[name])}) is used by no model column",
            f"drop it with {new_revision_hint(f'drop enum {name}')} (op.execute('DROP TYPE {name}'))",
        )


def _domain(spec: dict[str, Any]) -> str:
    text = str(spec["type"]) + (" NOT NULL" if spec["not_null"] else "")
    text += f" DEFAULT {spec['default']}" if spec["default"] is not None else ""
    return text + "".join(f" CONSTRAINT {name} {check}" for name, check in sorted(spec["checks"].items()))


def _domains(model: dict[str, Any], db: dict[str, Any]) -> Iterator[Finding]:
    """Domains the models create: missing or defined otherwise (an unused domain in the history is not judged)."""
    for name, spec in sorted(model.items()):
        if name not in db:
            yield Finding(
                C5,
                ERROR,
                name,
                f"domain {name} ({_domain(spec)}) does not exist in the database",
                new_revision_hint(f"add domain {name}"),
            )
        elif _domain(spec) != _domain(db[name]):
            yield Finding(
                C5,
                ERROR,
                name,
                f"domain {name} differs: model {_domain(spec)}, database {_domain(db[name])}",
                new_revision_hint(f"alter domain {name}"),
            )
