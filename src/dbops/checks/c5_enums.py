"""C5: every model enum type exists with the same labels in the same order; no orphan enum type."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import ARRAY, Enum

from dbops.checks.compare import enum_difference
from dbops.checks.context import CheckContext, new_revision_hint
from dbops.core.findings import ERROR, WARNING, Finding

RULES = ("C5-enums",)


@dataclass
class ModelEnum:
    """An enum type as the models declare it, and the columns using it."""

    labels: list[str]
    columns: list[str] = field(default_factory=list)


def model_enums(ctx: CheckContext) -> tuple[dict[str, ModelEnum], list[Finding]]:
    """Native enum types used by model columns; conflicting declarations of one name are findings."""
    found: dict[str, ModelEnum] = {}
    conflicts: list[Finding] = []
    for table in ctx.model_tables.values():
        for column in table.columns:
            type_ = column.type.item_type if isinstance(column.type, ARRAY) else column.type
            if not isinstance(type_, Enum) or not type_.native_enum or not type_.name:
                continue
            where = f"{table.name}.{column.name}"
            labels = list(type_.enums)
            known = found.setdefault(type_.name, ModelEnum(labels))
            if known.labels != labels:
                conflicts.append(
                    Finding(
                        RULES[0],
                        WARNING,
                        type_.name,
                        f"models declare enum {type_.name} twice: {known.labels} (at {known.columns[0]}) "
                        f"and {labels} (at {where})",
                        "share one Enum object between the columns",
                    )
                )
            known.columns.append(where)
    return found, conflicts


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Missing, different and orphan enum types."""
    declared, conflicts = model_enums(ctx)
    yield from conflicts
    in_db: dict[str, list[str]] = ctx.catalog["enums"]
    missing_tables = set(ctx.missing_tables)
    for name, enum in sorted(declared.items()):
        if name not in in_db:
            # An enum used only by missing tables arrives with them: C1 already says so.
            if all(col.split(".", 1)[0] in missing_tables for col in enum.columns):
                continue
            yield Finding(
                RULES[0],
                ERROR,
                name,
                f"enum type {name} ({', '.join(enum.labels)}) used by {', '.join(enum.columns)} "
                "does not exist in the database",
                new_revision_hint(f"add enum {name}"),
            )
        elif in_db[name] != enum.labels:
            yield Finding(RULES[0], ERROR, name, *enum_difference(name, enum.labels, in_db[name]))
    # A type used by a table without a model (an allowed table, or one C2 reports) is not an orphan.
    used_elsewhere = {
        column["type"].removesuffix("[]").strip('"')
        for table, spec in ctx.catalog["tables"].items()
        if table not in ctx.model_tables
        for column in spec["columns"].values()
    }
    for name in sorted(set(in_db) - set(declared) - used_elsewhere):
        yield Finding(
            RULES[0],
            ERROR,
            name,
            f"database enum type {name} ({', '.join(in_db[name])}) is used by no model column",
            f"drop it with {new_revision_hint(f'drop enum {name}')} (op.execute('DROP TYPE {name}'))",
        )
