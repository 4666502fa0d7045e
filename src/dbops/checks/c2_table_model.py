"""C2: every table in the database has a model (the version table, ``allow_tables`` and env.py's filters excepted)."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.checks.compare import C2
from dbops.checks.context import CheckContext
from dbops.core.findings import Finding

RULES = (C2,)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """One finding per database table that no model declares."""
    yield from ctx.findings(C2)
