"""C1: every model has its table in the database (from the catalog comparison)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from dbops.checks.compare import C1
from dbops.checks.context import CheckContext, migrate_hint
from dbops.core.findings import Finding

RULES = (C1,)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """One finding per model table the database lacks; the hint says whether a pending revision creates it."""
    for finding in ctx.findings(C1):
        creator = ctx.pending_creates.get(finding.object)
        if creator:  # a database behind head (--live): applying the history is the fix
            message = finding.message.replace("no migration creates it", f"pending revision {creator} creates it")
            finding = dataclasses.replace(finding, message=message, hint=migrate_hint())
        yield finding
