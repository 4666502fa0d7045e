"""C3: columns: presence, type, nullability and server default (Alembic's comparison, made readable)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Column, Table

from dbops.checks.context import CONSTRAINT_KINDS, TABLE_KINDS, CheckContext, new_revision_hint
from dbops.checks.sqlnorm import compile_type, render_default
from dbops.core.findings import ERROR, WARNING, Finding

RULES = ("C3-columns",)


def _describe(column: Column[Any]) -> str:
    null = "NULL" if column.nullable else "NOT NULL"
    default = f" DEFAULT {render_default(column.server_default)}" if column.server_default is not None else ""
    return f"{compile_type(column.type)} {null}{default}"


def _finding(obj: str, message: str, hint: str, severity: str = ERROR) -> Finding:
    return Finding(rule=RULES[0], severity=severity, object=obj, message=message, hint=hint)


def _modify(kind: str, table: str, column: str, db_value: Any, model_value: Any) -> Finding:
    obj = f"{table}.{column}"
    hint = new_revision_hint(f"alter {obj}")
    if kind == "modify_type":
        what = f"type: model {compile_type(model_value)}, database {compile_type(db_value)}"
    elif kind == "modify_nullable":
        words = {True: "NULL", False: "NOT NULL"}
        what = f"nullability: model {words[bool(model_value)]}, database {words[bool(db_value)]}"
    elif kind == "modify_default":
        what = f"server default: model {render_default(model_value)}, database {render_default(db_value)}"
    else:  # modify_comment and whatever Alembic adds later: worth knowing, not worth failing
        what = f"{kind.removeprefix('modify_')}: model {model_value!r}, database {db_value!r}"
        return _finding(obj, f"column {obj} differs in {what}", hint, WARNING)
    return _finding(obj, f"column {obj} differs in {what}", hint)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Findings for missing, extra and different columns of tables present on both sides."""
    for diff in ctx.diffs:
        kind = diff[0]
        if kind in TABLE_KINDS or kind in CONSTRAINT_KINDS:
            continue
        if kind == "add_column":
            _, _, table, column = diff
            obj = f"{table}.{column.name}"
            yield _finding(
                obj,
                f"model column {obj} ({_describe(column)}) does not exist in the database",
                new_revision_hint(f"add {obj}"),
            )
        elif kind == "remove_column":
            _, _, table, column = diff
            obj = f"{table}.{column.name}"
            yield _finding(
                obj,
                f"database column {obj} ({_describe(column)}) has no model attribute",
                f"add it to the model or drop it with {new_revision_hint(f'drop {obj}')}",
            )
        elif kind.startswith("modify_"):
            _, _, table, column, _info, db_value, model_value = diff
            yield _modify(kind, table, column, db_value, model_value)
        else:
            yield _other(diff)


def _other(diff: tuple[Any, ...]) -> Finding:
    """Table comments and diff kinds of future Alembic versions: worth knowing, not worth failing."""
    kind = diff[0]
    obj = diff[1].name if isinstance(diff[1], Table) else str(diff[1])
    hint = new_revision_hint(f"{kind.replace('_', ' ')} {obj}")
    if kind == "add_table_comment":
        message = f"table {obj} comment differs: model {diff[1].comment!r}, database {diff[2]!r}"
    elif kind == "remove_table_comment":
        message = f"table {obj} has a comment in the database but none in the model"
    else:
        message = f"Alembic reports {kind} on {obj}: {diff[2:]!r}"
    return _finding(obj, message, hint, WARNING)
