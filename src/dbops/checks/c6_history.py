"""C6: the migration history: one head, one base, every revision reachable, unique ids, database at head."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from dbops.checks.context import CheckContext, migrate_hint
from dbops.core.errors import command_hint
from dbops.core.findings import ERROR, Finding
from dbops.migrations.scripts import module_literals, parse_source, version_files

RULES = ("C6-history",)


def declared_revisions(path: Path) -> tuple[str | None, object]:
    """(revision, down_revision) assigned at module level of a revision file; (None, None) if unreadable."""
    try:
        tree = parse_source(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, ValueError):
        return None, None
    values = module_literals(tree)
    revision = values.get("revision")
    return (revision if isinstance(revision, str) else None), values.get("down_revision")


def known_revision(script: ScriptDirectory, revision: str) -> bool:
    """True if a version file defines ``revision`` (Alembic raises for unknown ids rather than returning None)."""
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _relative(ctx: CheckContext, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ctx.settings.root.resolve()))
    except ValueError:
        return str(path)


def _finding(obj: str, message: str, hint: str) -> Finding:
    return Finding(rule=RULES[0], severity=ERROR, object=obj, message=message, hint=hint)


def _files(ctx: CheckContext) -> tuple[dict[str, list[str]], list[Finding]]:
    """Revision id -> files declaring it, and a finding per id declared more than once."""
    by_id: dict[str, list[str]] = {}
    for path in version_files(ctx.script):
        revision, _ = declared_revisions(path)
        if revision is not None:
            by_id.setdefault(revision, []).append(_relative(ctx, path))
    dupes = [
        _finding(
            rev,
            f"revision id {rev} is declared by {len(paths)} files: {', '.join(paths)} (Alembic keeps only one)",
            "give each file its own revision id and fix the down_revision that should point to it",
        )
        for rev, paths in sorted(by_id.items())
        if len(paths) > 1
    ]
    return by_id, dupes


def _structure(ctx: CheckContext, by_id: dict[str, list[str]]) -> Iterator[Finding]:
    script = ctx.script
    heads = sorted(set(script.get_heads()))  # a duplicate id would otherwise count as two heads
    if len(heads) > 1:
        yield _finding(
            ",".join(sorted(heads)),
            f"the history has {len(heads)} heads: {', '.join(sorted(heads))}",
            f'merge them: alembic merge -m "merge heads" {" ".join(sorted(heads))}',
        )
    bases = sorted(set(script.get_bases()))
    if len(bases) > 1:
        yield _finding(
            ",".join(sorted(bases)),
            f"the history has {len(bases)} bases (down_revision = None): {', '.join(sorted(bases))}",
            "point all but the first at the revision they follow",
        )
    reachable = {rev.revision for rev in script.walk_revisions("base", "heads")}
    for rev in sorted(set(by_id) - reachable):
        yield _finding(
            rev,
            f"revision {rev} ({', '.join(by_id[rev])}) is not reachable from base to head",
            "fix its down_revision so it names an existing revision",
        )


def _database(ctx: CheckContext) -> Iterator[Finding]:
    heads = set(ctx.script.get_heads())
    current = ctx.current_heads
    unknown = [rev for rev in current if not known_revision(ctx.script, rev)]
    for rev in unknown:
        yield _finding(
            rev,
            f"the database's alembic_version names revision {rev}, which no migration file defines",
            f"restore that migration file, or check the schema and re-stamp: alembic stamp {' '.join(sorted(heads))}",
        )
    if unknown or set(current) == heads:
        return
    at = ",".join(current) or "base"
    pending = [rev.revision for rev in ctx.pending]
    if pending:
        message = f"the database is at {at}, head is {','.join(sorted(heads))}: pending revisions {', '.join(pending)}"
    else:
        message = f"the database is at {at}, which is not a head ({','.join(sorted(heads))})"
    yield _finding(at, message, migrate_hint())


def check(ctx: CheckContext) -> Iterator[Finding]:
    """History findings; a history Alembic cannot read is one finding, not a traceback."""
    by_id, dupes = _files(ctx)
    yield from dupes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "present more than once": reported above, with the files
            found = list(_structure(ctx, by_id)) + list(_database(ctx))
    except (
        CommandError,
        RevisionError,
        KeyError,
    ) as exc:  # Alembic on a graph it cannot walk (KeyError: a lost parent)
        yield _finding(
            "history",
            f"Alembic cannot read the revision history: {type(exc).__name__}: {exc}",
            f"fix the down_revision values named above (see `{command_hint('migrate.history')}`)",
        )
        return
    yield from found
