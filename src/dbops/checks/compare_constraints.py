"""C4 on two catalogs: primary keys, foreign keys, unique, CHECK and exclusion constraints, indexes.

Each object compares by its definition as PostgreSQL prints it (``pg_get_constraintdef``, and
``pg_get_indexdef`` without the index name and schema) and by its name. On one table, in this order:
a name on both sides with another definition is one "differs" finding naming both definitions; a
definition on both sides under another name is one "is named ... in the database" finding; a unique
constraint on one side and a plain index of the same name on the other is one finding; two primary
keys that match in nothing are one "differs" finding (a table has one); the rest is missing or extra.
Indexes that back a constraint are the constraint's: they are not compared again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dbops.checks.hints import new_revision_hint
from dbops.core.findings import ERROR, Finding

RULE = "C4-constraints"

_KINDS = {
    "primary key": "primary key",
    "foreign key": "foreign key",
    "unique": "unique constraint",
    "check": "CHECK constraint",
    "exclude": "exclusion constraint",
}
_NOT_VALID = " NOT VALID"


@dataclass(frozen=True)
class _Item:
    kind: str  # as messages name it: "foreign key", "index", ...
    definition: str


def constraint_definition(con: dict[str, Any]) -> str:
    """The definition as compared: without " NOT VALID", which the models cannot express."""
    definition: str = con["definition"]
    if not con.get("validated", True) and definition.endswith(_NOT_VALID):
        return definition[: -len(_NOT_VALID)]
    return definition


def _pools(catalog: dict[str, Any], table: str) -> tuple[dict[str, _Item], dict[str, _Item]]:
    """The table's constraints and its plain indexes (index and constraint names are separate namespaces)."""
    constraints = {
        name: _Item(_KINDS[con["type"]], constraint_definition(con))
        for name, con in catalog["tables"][table]["constraints"].items()
    }
    indexes = {
        name: _Item("index", index["definition"])
        for name, index in catalog["indexes"].items()
        if index["table"] == table and not index["constraint"]
    }
    return constraints, indexes


def _finding(obj: str, message: str, hint: str) -> Finding:
    return Finding(RULE, ERROR, obj, message, hint)


def _rename_hint(table: str, kind: str, old: str, new: str) -> str:
    sql = (
        f"ALTER INDEX {old} RENAME TO {new}"
        if kind == "index"
        else f"ALTER TABLE {table} RENAME CONSTRAINT {old} TO {new}"
    )
    return f"rename it with {new_revision_hint(f'rename {old}')}: op.execute('{sql}'), or name it {old} in the model"


def _same_names(table: str, model: dict[str, _Item], db: dict[str, _Item]) -> Iterator[Finding]:
    for name in sorted(set(model) & set(db)):
        m, d = model.pop(name), db.pop(name)
        if m == d:
            continue
        what = (
            f"{m.kind} {name} on {table} differs"
            if m.kind == d.kind
            else f"{m.kind} {name} on {table} is {'an' if d.kind == 'index' else 'a'} {d.kind} in the database"
        )
        if m.kind == d.kind == "primary key":
            what = f"primary key of {table} differs"
        yield _finding(
            name, f"{what}: model {m.definition}, database {d.definition}", new_revision_hint(f"alter {name}")
        )


def _renamed(table: str, model: dict[str, _Item], db: dict[str, _Item]) -> Iterator[Finding]:
    for name in sorted(model):
        other = next((n for n in sorted(db) if db[n] == model[name]), None)
        if other is None:
            continue
        item = model.pop(name)
        del db[other]
        if item.kind == "primary key":
            message = f"primary key of {table} is named {name} in the model, {other} in the database"
        else:
            message = f"{item.kind} {name} on {table} is named {other} in the database"
        yield _finding(name, message, _rename_hint(table, item.kind, other, name))


def _primary_keys(table: str, model: dict[str, _Item], db: dict[str, _Item]) -> Iterator[Finding]:
    """Two primary keys left unmatched are one key that differs in name and columns."""
    m = next((n for n, item in model.items() if item.kind == "primary key"), None)
    d = next((n for n, item in db.items() if item.kind == "primary key"), None)
    if m and d:
        md, dd = model.pop(m).definition, db.pop(d).definition
        yield _finding(
            m,
            f"primary key of {table} differs: model {m} {md}, database {d} {dd}",
            new_revision_hint(f"alter primary key of {table}"),
        )


def _missing_and_extra(
    table: str, model: dict[str, _Item], db: dict[str, _Item], declared: dict[str, _Item] | None = None
) -> Iterator[Finding]:
    for name, item in sorted(model.items()):
        twin = next((n for n, other in sorted((declared or {}).items()) if n != name and other == item), None)
        if twin is not None and twin not in model:  # create_all makes both; the history, the one it matched
            yield _finding(
                name,
                f"model {item.kind} {name} on {table} ({item.definition}) repeats {twin}: the model declares it "
                "twice, the database has it once",
                f"declare it once in the model (drop {name})",
            )
            continue
        yield _finding(
            name,
            f"model {item.kind} {name} on {table} ({item.definition}) does not exist in the database",
            new_revision_hint(f"add {name}"),
        )
    for name, item in sorted(db.items()):
        yield _finding(
            name,
            f"database {item.kind} {name} on {table} ({item.definition}) is not declared by the model",
            f"declare it in the model or drop it with {new_revision_hint(f'drop {name}')}",
        )


def compare_constraints(models: dict[str, Any], history: dict[str, Any], tables: list[str]) -> Iterator[Finding]:
    """Constraint and index findings for ``tables`` (present on both sides)."""
    for table in tables:
        model_cons, model_ixs = _pools(models, table)
        declared = {**model_cons, **model_ixs}
        db_cons, db_ixs = _pools(history, table)
        for model, db in ((model_cons, db_cons), (model_ixs, db_ixs)):
            yield from _same_names(table, model, db)
            yield from _renamed(table, model, db)
        yield from _primary_keys(table, model_cons, db_cons)
        # A constraint on one side, a plain index of its name on the other (a unique constraint made an index).
        yield from _same_names(table, model_cons, db_ixs)
        yield from _same_names(table, model_ixs, db_cons)
        yield from _missing_and_extra(table, model_cons, db_cons, declared)
        yield from _missing_and_extra(table, model_ixs, db_ixs, declared)
