"""C2: every table in the database has a model (``alembic_version`` and ``allow_tables`` excepted)."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.checks.context import CheckContext, new_revision_hint
from dbops.core.findings import ERROR, Finding

RULES = ("C2-table-model",)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """One finding per database table that no model declares."""
    for name in ctx.extra_tables:
        columns = ctx.catalog["tables"][name]["columns"]
        yield Finding(
            rule=RULES[0],
            severity=ERROR,
            object=name,
            message=f"database table {name} ({len(columns)} columns) has no model",
            hint=(
                f"add a model for it, drop it with {new_revision_hint(f'drop {name}')}, "
                f'or list it in allow_tables = ["{name}"] under [tool.dbops]'
            ),
        )
