"""B0-B3: the migration blocker scan (:mod:`dbops.blockers`) as a rule of the consistency run."""

from __future__ import annotations

from collections.abc import Iterator

from dbops.blockers import RULES, floor_revisions, scan_file, version_files
from dbops.checks.context import CheckContext
from dbops.findings import Finding

__all__ = ["RULES", "check"]


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Blocker findings of the project's migration files."""
    paths = version_files(ctx.script)
    floor = frozenset(floor_revisions(paths, ctx.settings.downgrade_floor))
    for path in paths:
        yield from scan_file(path, ctx.settings.root, floor)
