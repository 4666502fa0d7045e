"""C1: every model has its table in the database."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.checks.context import CheckContext, migrate_hint, new_revision_hint
from dbops.core.findings import ERROR, Finding

RULES = ("C1-model-table",)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """One finding per model table the database lacks; the hint says whether a pending revision creates it."""
    for name in ctx.missing_tables:
        table = ctx.model_tables[name]
        creator = ctx.pending_creates.get(name)
        where = f"; pending revision {creator} creates it" if creator else "; no migration creates it"
        yield Finding(
            rule=RULES[0],
            severity=ERROR,
            object=name,
            message=f"model table {name} ({len(table.columns)} columns) does not exist in the database{where}",
            hint=migrate_hint() if creator else new_revision_hint(f"add {name}"),
        )
