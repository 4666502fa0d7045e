"""B0-B3: the migration blocker scan (:mod:`dbops.blockers`) as a rule of the consistency run."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.blockers import RULES, scan_blockers, version_files
from dbops.checks.context import CheckContext
from dbops.findings import Finding

__all__ = ["RULES", "check"]


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Blocker findings of the project's migration files."""
    yield from scan_blockers(version_files(ctx.script), ctx.settings.root)
