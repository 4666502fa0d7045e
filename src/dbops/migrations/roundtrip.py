"""The migration round trip: every upgrade, then every downgrade, must leave the schema it found.

One database, one pass in topological order (branches and merge points included): snapshot, upgrade
one revision, ... heads; then downgrade one revision at a time in the reverse order and compare each
result with the snapshot taken before that revision's upgrade; finally upgrade to the heads again and
compare with the first heads. Revisions at or below the downgrade floor (``downgrade_floor`` or a
``# dbops: downgrade-floor`` comment) are irreversible by design: they are upgraded, never downgraded.
A history with no revision is not clean: there was nothing to walk, and the walk says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from dbops import migrations
from dbops.core import database
from dbops.core.catalog import read_catalog
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError, MigrationError, NotChecked, command_hint
from dbops.core.findings import ERROR, Finding
from dbops.core.urls import mask_url, parse_url
from dbops.migrations.graph import History
from dbops.migrations.history_scan import history_failure
from dbops.migrations.migrator import migrator
from dbops.migrations.scripts import floor_revisions, no_revisions
from dbops.migrations.snapshot import diff_snapshots

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


def _hint(revision: str, line: str, after: dict[str, Any] | None = None) -> str:
    """The fix for one difference left by the downgrade of ``revision`` (SQL PostgreSQL accepts)."""
    change, _, rest = line.partition(" ")
    for kind, template in _DROP.items():
        if rest.startswith(kind + " "):
            name = rest[len(kind) + 1 :].split(":", 1)[0].strip()
            table, _, column = name.partition(".")
            if change == "leftover":
                index = (after or {}).get("indexes", {}).get(name, {})
                if kind == "index" and index.get("constraint"):
                    # An index that backs a primary key or unique constraint goes with the constraint.
                    return (
                        f"drop the constraint that owns index {name} on {index['table']} in downgrade() of {revision}"
                    )
                return f"drop it in downgrade() of {revision}: " + template.format(
                    name=name, table=table, column=column
                )
            break
    if change == "missing":
        return f"recreate it in downgrade() of {revision} (the upgrade dropped it)"
    return f"make downgrade() of {revision} restore the previous definition"


def plan(settings: Settings, files: list[Path]) -> tuple[list[str], set[str]]:
    """Every revision of ``files``, base first in topological order, and those at or below the downgrade floor."""
    history = History.read(files)
    order = history.order()
    floor = floor_revisions(files, settings.downgrade_floor)
    if settings.baseline:  # the baseline stands for these: stamped, never walked
        stamped = history.ancestors(
            history.heads if settings.baseline_revision is None else [settings.baseline_revision]
        )
        order = [rev for rev in order if rev not in stamped]
        floor |= stamped
    if settings.downgrade_floor and settings.downgrade_floor not in order:
        raise ConfigError(
            f"downgrade_floor {settings.downgrade_floor!r} is not a revision of this history",
            f"set it to a revision id from `{command_hint('migrate.history')}`",
        )
    return order, floor


def round_trip(settings: Settings, url: URL | str) -> list[Finding]:
    """Upgrade an empty database one revision at a time, downgrade it back, and name every object left behind."""
    url = parse_url(url) if isinstance(url, str) else url
    # Autocommit: each snapshot sees what the migrator's own connection has committed, and holds no lock.
    conn = database.connect(url)
    try:
        start = read_catalog(conn)
        with migrator(settings, url) as m:
            view = m.view()  # the folders env.py chose are the ones walked
            order, floor = plan(settings, view.revision_files)
            if not order:
                raise NotChecked(no_revisions(settings, view.opts.get("version_locations")))
            if view.heads or start["tables"] or start["enums"]:
                raise ConfigError(
                    f"the round trip needs an empty database; {mask_url(url)} is at "
                    f"{','.join(view.heads) or 'base'} with {len(start['tables'])} tables",
                    "run it on a new database (the pytest fixture empty_database, "
                    f"or `{command_hint('reset-db --revision base')}`)",
                )
            m.prepare()  # a pre-Alembic baseline belongs to every snapshot, not to the first revision
            return _walk_with(m, conn, order, floor)
    finally:
        conn.close()


_SCHEMAS = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = pg_namespace.oid AND d.deptype = 'e')
ORDER BY 1
"""


def snapshot_all(conn: psycopg.Connection[Any], main: str, version: tuple[str, str]) -> dict[str, Any]:
    """Every user schema in one catalog: ``main``'s objects by name, another schema's as ``schema.name``.

    The migrations may work in any schema (a tenant's, one a hook made); env.py's version table is left out.
    """
    merged: dict[str, Any] = {}
    for (schema,) in conn.execute(_SCHEMAS).fetchall():
        exclude = [version[1]] if schema == version[0] else []
        catalog = read_catalog(conn, schema, exclude=exclude)
        prefix = "" if schema == main else f"{schema}."
        for section, objects in catalog.items():
            merged.setdefault(section, {}).update({prefix + name: spec for name, spec in objects.items()})
    return merged


def _walk_with(
    m: migrations.Migrator, conn: psycopg.Connection[Any], order: list[str], floor: set[str]
) -> list[Finding]:
    findings: list[Finding] = []
    main = m.settings.tenant_schema or m.settings.schemas[0]
    version = m.view().version_table

    def read_catalog(conn: psycopg.Connection[Any]) -> dict[str, Any]:
        return snapshot_all(conn, main, version)

    def step(action: Callable[[], None], what: str, obj: str) -> bool:
        try:
            action()
        except MigrationError as exc:
            if findings and what.startswith("downgrade"):
                return False  # it ran on a schema an earlier downgrade left wrong: a consequence, not news
            if what.startswith("downgrade"):
                findings.append(Finding(RULE, ERROR, obj, exc.message, exc.hint or "fix the migration"))
            else:  # an upgrade that fails is the history not applying, worded as every task words it
                findings.append(history_failure(obj, exc))
            return False
        return True

    before: dict[str, dict[str, Any]] = {}
    for revision in order:
        before[revision] = read_catalog(conn)
        if not step(lambda r=revision: m.step(r, up=True), f"upgrade to {revision}", revision):  # type: ignore[misc]
            return findings
    head = current = read_catalog(conn)
    # A leftover stays in every later snapshot; it is named once, at the revision that left it.
    carried: set[str] = set()
    for revision in reversed(order):
        if revision in floor:
            continue  # irreversible by design; everything below it is too
        if not step(lambda r=revision: m.step(r, up=False), f"downgrade of {revision}", revision):  # type: ignore[misc]
            return findings
        after = read_catalog(conn)
        # A downgrade that renames a table back takes the leftovers on it along: they are still the same ones.
        carried = _follow(carried, _table_renames(current, after))
        lines = diff_snapshots(before[revision], after)
        new, carried = [line for line in lines if line not in carried], carried | set(lines)
        findings += _findings(revision, new, before[revision], after)
        current = after
    if not step(lambda: m.upgrade("heads"), "upgrade to the heads after the downgrades", "head"):
        return findings
    for line in diff_snapshots(head, read_catalog(conn)):
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


def _table_renames(before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """Table gone from ``before`` -> table new in ``after`` sharing most of its columns (a rename, maybe with a
    column renamed along): old name -> new name."""
    gone = sorted(set(before["tables"]) - set(after["tables"]))
    new = sorted(set(after["tables"]) - set(before["tables"]))
    out: dict[str, str] = {}
    for old in gone:
        columns = set(before["tables"][old]["columns"])
        for name in new:
            others = set(after["tables"][name]["columns"])
            if name not in out.values() and 2 * len(columns & others) > len(columns | others):
                out[old] = name
                break
    return out


def _follow(lines: set[str], renames: dict[str, str]) -> set[str]:
    """``lines`` with each renamed table's name replaced by its new one (a whole name, never part of another)."""
    if not renames:
        return lines
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(name) for name in renames) + r")(?![\w])")
    return {pattern.sub(lambda match: renames[match.group(1)], line) for line in lines}


def _renames(lines: list[str], before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """Leftover table -> missing table with the same columns: a rename the downgrade did not undo."""
    missing = [line.split(" ", 2)[2] for line in lines if line.startswith("missing table ")]
    leftover = [line.split(" ", 2)[2] for line in lines if line.startswith("leftover table ")]
    out: dict[str, str] = {}
    for new in leftover:
        cols = after["tables"][new]["columns"]
        for old in missing:
            if old not in out.values() and before["tables"][old]["columns"].keys() == cols.keys():
                out[new] = old
    return out


def _findings(revision: str, lines: list[str], before: dict[str, Any], after: dict[str, Any]) -> list[Finding]:
    """One finding per difference; a table rename and everything that moved with it are one finding."""
    renames = _renames(lines, before, after)
    moved = set(renames) | set(renames.values())
    out = [
        Finding(
            RULE,
            ERROR,
            revision,
            f"downgrade of {revision} did not rename table {new} back to {old}",
            f"in downgrade() of {revision}: op.rename_table('{new}', '{old}')",
        )
        for new, old in sorted(renames.items())
    ]
    leftover = {
        line.split(" ")[2].split(":")[0] for line in lines if line.startswith(("leftover table ", "leftover column "))
    }
    for line in lines:
        if moved and _mentions(line, moved, before, after):
            continue
        if line.startswith("leftover sequence ") and _owned_by(line, leftover, after):
            continue  # an owned sequence goes with its column or table: no separate DROP SEQUENCE
        if line.startswith(("leftover index ", "leftover constraint ")) and _on_leftover_table(line, leftover, after):
            continue  # it goes with its table, which is named
        if _backs_a_named_constraint(line, lines, before, after):
            continue  # the index of a primary key or unique constraint: the constraint's line says it
        out.append(
            Finding(
                RULE,
                ERROR,
                revision,
                f"downgrade of {revision} did not restore the schema: {line}",
                _hint(revision, line, after),
            )
        )
    return out


def _mentions(line: str, tables: set[str], before: dict[str, Any], after: dict[str, Any]) -> bool:
    """True if a diff line is about one of ``tables`` or an index or sequence that belongs to one."""
    name = line.split(" ", 1)[1].split(":", 1)[0]
    obj = name.split(" ")[-1]
    if name.startswith(("table ", "column ", "constraint ")) and obj.split(".", 1)[0] in tables:
        return True
    for snap in (before, after):
        index = snap["indexes"].get(obj) if name.startswith("index ") else None
        if index and index["table"] in tables:
            return True
        seq = snap["sequences"].get(obj) if name.startswith("sequence ") else None
        if seq and (seq.get("owned_by") or "").split(".", 1)[0] in tables:
            return True
    return False


def _backs_a_named_constraint(line: str, lines: list[str], before: dict[str, Any], after: dict[str, Any]) -> bool:
    """True if ``line`` is about the index of a constraint that another line names."""
    if line.split(" ", 2)[1] != "index":
        return False
    name = line.split(" ")[2].split(":")[0]
    for snap in (before, after):
        index = snap["indexes"].get(name) or {}
        owner = f"constraint {index.get('table')}.{index.get('constraint')}"
        if index.get("constraint") and any(other.split(":", 1)[0].endswith(owner) for other in lines):
            return True
    return False


def _on_leftover_table(line: str, leftover: set[str], after: dict[str, Any]) -> bool:
    """True if the leftover index or constraint on ``line`` belongs to a leftover table."""
    name = line.split(" ")[2].split(":")[0]
    if line.startswith("leftover constraint "):
        return name.split(".", 1)[0] in leftover
    return after["indexes"].get(name, {}).get("table") in leftover


def _owned_by(line: str, leftover: set[str], after: dict[str, Any]) -> bool:
    """True if the leftover sequence on ``line`` is owned by a leftover table or column."""
    owner = after["sequences"].get(line.split(" ")[2].split(":")[0], {}).get("owned_by") or ""
    return bool(owner) and (owner in leftover or owner.split(".", 1)[0] in leftover)
