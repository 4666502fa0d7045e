"""C5: enum types (labels and their order, orphans) and domains (from the catalog comparison)."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.checks.context import CheckContext
from dbops.core.findings import Finding

RULES = ("C5-enums",)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The comparison's C5 findings."""
    yield from ctx.findings(RULES[0])
