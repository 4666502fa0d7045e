"""C3: columns: type, nullability, default, identity, generated, collation, comments (catalog comparison)."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.checks.context import CheckContext
from dbops.core.findings import Finding

RULES = ("C3-columns",)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The comparison's C3 findings."""
    yield from ctx.findings(RULES[0])
