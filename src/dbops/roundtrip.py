"""The migration round trip: every upgrade, then every downgrade, must leave the schema it found.

One database, one linear pass: snapshot, upgrade one revision, ... head; then downgrade one revision
at a time and compare each result with the snapshot taken before that revision's upgrade; finally
upgrade to head again and compare with the first head.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import URL, Engine

from dbops import database, migrations
from dbops.config import Settings
from dbops.errors import ConfigError, MigrationError
from dbops.findings import ERROR, Finding
from dbops.snapshot import diff_snapshots, snapshot
from dbops.urls import mask_url, parse_url

RULE = "R1-roundtrip"

# What a downgrade must do about each kind of difference (first word of a diff line, then the object kind).
_DROP = {
    "table": "op.drop_table('{name}')",
    "index": "op.drop_index('{name}')",
    "enum type": "op.execute('DROP TYPE {name}')",
    "domain": "op.execute('DROP DOMAIN {name}')",
    "sequence": "op.execute('DROP SEQUENCE {name}')",
    "view": "op.execute('DROP VIEW {name}')",
    "column": "op.drop_column('{table}', '{column}')",
    "constraint": "op.drop_constraint('{column}', '{table}')",
}


def _hint(revision: str, line: str) -> str:
    """The fix for one difference left by the downgrade of ``revision``."""
    change, _, rest = line.partition(" ")
    for kind, template in _DROP.items():
        if rest.startswith(kind + " "):
            name = rest[len(kind) + 1 :].split(":", 1)[0].strip()
            table, _, column = name.partition(".")
            if change == "leftover":
                return f"drop it in downgrade() of {revision}: " + template.format(
                    name=name, table=table, column=column
                )
            break
    if change == "missing":
        return f"recreate it in downgrade() of {revision} (the upgrade dropped it)"
    return f"make downgrade() of {revision} restore the previous definition"


def _snap(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return snapshot(conn)


def _linear(settings: Settings) -> tuple[list[tuple[str, str]], list[Finding]]:
    """(revision, the revision below it or 'base') from base to head, or the findings that forbid a linear pass."""
    script = migrations.script_directory(settings)
    heads = list(script.get_heads())
    if len(heads) != 1:
        return [], [
            Finding(
                RULE,
                ERROR,
                ",".join(sorted(heads)) or "history",
                f"the round trip needs exactly one head, found {len(heads)}",
                "merge the heads first",
            )
        ]
    steps = []
    for rev in reversed(list(script.walk_revisions("base", "heads"))):
        down = rev.down_revision
        if isinstance(down, (tuple, list)):
            return [], [
                Finding(
                    RULE,
                    ERROR,
                    rev.revision,
                    f"revision {rev.revision} merges {', '.join(down)}; the round trip walks a linear history only",
                    "check the branches one at a time",
                )
            ]
        steps.append((rev.revision, down or "base"))
    return steps, []


def round_trip(settings: Settings, url: URL | str) -> list[Finding]:
    """Upgrade an empty database one revision at a time, downgrade it back, and name every object left behind."""
    url = parse_url(url) if isinstance(url, str) else url
    steps, findings = _linear(settings)
    if findings:
        return findings
    engine = database.engine(url)
    try:
        start = _snap(engine)
        at = migrations.current(settings, url)
        if at is not None or start["tables"] or start["enums"]:
            raise ConfigError(
                f"the round trip needs an empty database; {mask_url(url)} is at {at or 'base'} "
                f"with {len(start['tables'])} tables",
                "run it on a new database (the pytest fixture empty_database, or `invoke reset-db --revision base`)",
            )
        return _walk(settings, url, engine, steps)
    finally:
        engine.dispose()


def _walk(settings: Settings, url: URL, engine: Engine, steps: list[tuple[str, str]]) -> list[Finding]:
    with migrations.migrator(settings, url) as m:
        return _walk_with(m, engine, steps)


def _walk_with(m: migrations.Migrator, engine: Engine, steps: list[tuple[str, str]]) -> list[Finding]:
    findings: list[Finding] = []

    def step(action: Callable[[str], None], target: str, what: str, obj: str) -> bool:
        try:
            action(target)
        except MigrationError as exc:
            findings.append(Finding(RULE, ERROR, obj, f"{what} failed: {exc.message}", exc.hint or "fix the migration"))
            return False
        return True

    before: dict[str, dict[str, Any]] = {}
    for revision, _down in steps:
        before[revision] = _snap(engine)
        if not step(m.upgrade, revision, f"upgrade to {revision}", revision):
            return findings
    head = _snap(engine)
    # A leftover stays in every later snapshot; it is named once, at the revision that left it.
    carried: set[str] = set()
    for revision, down in reversed(steps):
        if not step(m.downgrade, down, f"downgrade of {revision} (to {down})", revision):
            return findings
        lines = diff_snapshots(before[revision], _snap(engine))
        new, carried = [line for line in lines if line not in carried], carried | set(lines)
        for line in new:
            findings.append(
                Finding(
                    RULE,
                    ERROR,
                    revision,
                    f"downgrade of {revision} did not restore the schema: {line}",
                    _hint(revision, line),
                )
            )
    if not step(m.upgrade, "head", "upgrade to head after the downgrades", "head"):
        return findings
    for line in diff_snapshots(head, _snap(engine)):
        findings.append(
            Finding(
                RULE,
                ERROR,
                "head",
                f"head after the round trip differs from the first head: {line}",
                "make each downgrade undo exactly what its upgrade did",
            )
        )
    return findings
