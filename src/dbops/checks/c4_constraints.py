"""C4: primary keys, foreign keys, unique, CHECK and exclusion constraints, indexes (from the catalog comparison)."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.checks.context import CheckContext
from dbops.core.findings import Finding

RULES = ("C4-constraints",)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The comparison's C4 findings."""
    yield from ctx.findings(RULES[0])
