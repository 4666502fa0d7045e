"""The differences between two pg_catalog snapshots (:func:`dbops.core.catalog.read_catalog`).

The snapshot is plain JSON-ready data (no OIDs, nothing that changes when an object is dropped and
recreated identically), so "before upgrade" and "after downgrade" compare equal exactly when the
downgrade restored the schema.
"""

from __future__ import annotations

from typing import Any

import psycopg

from dbops.core.catalog import VERSION_TABLE, read_catalog

__all__ = ["VERSION_TABLE", "diff_snapshots", "read_catalog", "snapshot"]


def snapshot(conn: Any, schema: str = "public", exclude: tuple[str, ...] = (VERSION_TABLE,)) -> dict[str, Any]:
    """:func:`read_catalog` on a psycopg connection, or on the psycopg one under a SQLAlchemy connection."""
    # The check context still holds a SQLAlchemy connection; its driver connection is psycopg (parse_url).
    raw = conn if isinstance(conn, psycopg.Connection) else conn.connection.driver_connection
    return read_catalog(raw, schema, exclude)


# Snapshot section -> the word used for its objects in messages.
_KINDS = {
    "tables": "table",
    "indexes": "index",
    "enums": "enum type",
    "domains": "domain",
    "sequences": "sequence",
    "views": "view",
    "functions": "function",
    "triggers": "trigger",
}


def _compare(kind: str, before: dict[str, Any], after: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for name in sorted(set(before) | set(after)):
        label = f"{kind} {prefix}{name}"
        if name not in after:
            out.append(f"missing {label}")
        elif name not in before:
            out.append(f"leftover {label}")
        elif before[name] != after[name]:
            out.append(f"changed {label}: {before[name]!r} -> {after[name]!r}")
    return out


def diff_snapshots(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Each object missing from, left over in, or changed in ``after`` compared with ``before``."""
    out: list[str] = []
    for section, kind in _KINDS.items():
        old, new = before.get(section, {}), after.get(section, {})
        if section != "tables":
            out += _compare(kind, old, new)
            continue
        out += [line for line in _compare(kind, old, new) if not line.startswith("changed ")]
        # Column order is deliberately ignored: PostgreSQL cannot reorder columns, so a downgrade that
        # re-adds a dropped column can only append it, and no migration could fix that.
        for table in sorted(set(old) & set(new)):
            if old[table].get("comment") != new[table].get("comment"):
                out.append(
                    f"changed table {table}: comment {old[table].get('comment')!r} -> {new[table].get('comment')!r}"
                )
            out += _compare("column", old[table]["columns"], new[table]["columns"], f"{table}.")
            out += _compare("constraint", old[table]["constraints"], new[table]["constraints"], f"{table}.")
    return out
