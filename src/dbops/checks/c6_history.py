"""C6: the migration history: one head, one base, every revision reachable, unique ids, database at head.

The history's shape is the history scan's (one wording in every task); this rule adds the database's
side: the revisions env.py's version table holds, against the heads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dbops.checks.context import CheckContext, migrate_hint
from dbops.core.findings import ERROR, Finding
from dbops.migrations.history_scan import scan_history
from dbops.migrations.scripts import module_literals, parse_source

RULES = ("C6-history",)


def _finding(obj: str, message: str, hint: str) -> Finding:
    return Finding(rule=RULES[0], severity=ERROR, object=obj, message=message, hint=hint)


def declared_revisions(path: Path) -> tuple[str | None, object]:
    """(revision, down_revision) assigned at module level of a revision file; (None, None) if unreadable."""
    try:
        tree = parse_source(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, ValueError):
        return None, None
    values = module_literals(tree)
    revision = values.get("revision")
    return (revision if isinstance(revision, str) else None), values.get("down_revision")


def _database(ctx: CheckContext) -> Iterator[Finding]:
    heads = set(ctx.history.heads) & ctx.history.reachable()
    current = ctx.current_heads
    unknown = [rev for rev in current if rev not in ctx.history.revisions]
    for rev in unknown:
        yield _finding(
            rev,
            f"the database's alembic_version names revision {rev}, which no migration file defines",
            f"restore that migration file, or check the schema and re-stamp: alembic stamp {' '.join(sorted(heads))}",
        )
    if unknown or set(current) == heads:
        return
    at = ",".join(current) or "base"
    pending = [rev.id for rev in ctx.pending]
    if pending:
        message = f"the database is at {at}, head is {','.join(sorted(heads))}: pending revisions {', '.join(pending)}"
    else:
        message = f"the database is at {at}, which is not a head ({','.join(sorted(heads))})"
    yield _finding(at, message, migrate_hint())


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The history's shape (files read, never imported here), then where the database stands against it."""
    yield from scan_history(ctx.revision_files, ctx.settings.root)
    yield from _database(ctx)
