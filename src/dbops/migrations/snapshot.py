"""A pg_catalog snapshot of one schema, and the differences between two snapshots.

The snapshot is plain JSON-ready data (no OIDs, nothing that changes when an object is
dropped and recreated identically), so "before upgrade" and "after downgrade" compare equal
exactly when the downgrade restored the schema.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Alembic's own bookkeeping: present after any upgrade, so never part of the schema under test.
VERSION_TABLE = "alembic_version"

_TABLES = """
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = to_regnamespace(:schema) AND c.relkind IN ('r', 'p') ORDER BY 1
"""
_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = to_regnamespace(:schema) AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, a.attnum
"""
_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid),
       ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i),
       CASE WHEN k.confrelid <> 0 THEN k.confrelid::regclass::text END,
       ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i),
       k.confdeltype
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relnamespace = to_regnamespace(:schema) AND k.contype IN ('p', 'f', 'u', 'c', 'x')
ORDER BY 1, 2
"""
_INDEXES = """
SELECT ic.relname, tc.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary,
       pg_get_expr(i.indpred, i.indrelid),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, n::int, true) FROM generate_series(1, i.indnkeyatts) n),
       EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
WHERE tc.relnamespace = to_regnamespace(:schema)
ORDER BY 1
"""
_ENUMS = """
SELECT t.typname, ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_type t WHERE t.typnamespace = to_regnamespace(:schema) AND t.typtype = 'e' ORDER BY 1
"""
_DOMAINS = """
SELECT t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull
FROM pg_type t WHERE t.typnamespace = to_regnamespace(:schema) AND t.typtype = 'd' ORDER BY 1
"""
_SEQUENCES = """
SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle,
       (SELECT r.relname || '.' || a.attname FROM pg_depend d
        JOIN pg_class r ON r.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') LIMIT 1)
FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relnamespace = to_regnamespace(:schema) AND c.relkind = 'S' ORDER BY 1
"""
_VIEWS = """
SELECT c.relname, c.relkind, pg_get_viewdef(c.oid)
FROM pg_class c WHERE c.relnamespace = to_regnamespace(:schema) AND c.relkind IN ('v', 'm') ORDER BY 1
"""
_FUNCTIONS = """
SELECT p.oid::regprocedure::text, p.prokind, pg_get_function_result(p.oid), md5(p.prosrc)
FROM pg_proc p
WHERE p.pronamespace = to_regnamespace(:schema)
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
ORDER BY 1
"""
_TRIGGERS = """
SELECT c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = to_regnamespace(:schema) AND NOT t.tgisinternal ORDER BY 1
"""


def snapshot(conn: Connection, schema: str = "public", exclude: tuple[str, ...] = (VERSION_TABLE,)) -> dict[str, Any]:
    """The schema's tables, columns, constraints, indexes, enums, domains, sequences, views, functions, triggers."""
    params = {"schema": schema}

    def rows(query: str) -> list[Any]:
        return list(conn.execute(text(query), params))

    tables: dict[str, Any] = {
        name: {"columns": {}, "constraints": {}} for (name,) in rows(_TABLES) if name not in exclude
    }
    for table, column, type_, nullable, default, identity, generated in rows(_COLUMNS):
        if table in tables:
            tables[table]["columns"][column] = {
                "type": type_,
                "nullable": bool(nullable),
                "default": default,
                "identity": identity or None,
                "generated": generated or None,
            }
    for table, name, kind, definition, columns, ref_table, ref_columns, on_delete in rows(_CONSTRAINTS):
        if table in tables:
            tables[table]["constraints"][name] = {
                "type": kind,
                "definition": definition,
                "columns": list(columns),
                "ref_table": ref_table,
                "ref_columns": list(ref_columns) if ref_table else [],
                "on_delete": on_delete.strip() if ref_table else None,
            }
    indexes = {
        name: {
            "table": table,
            "definition": definition,
            "unique": bool(unique),
            "primary": bool(primary),
            "predicate": predicate,
            "columns": list(columns),
            "constraint": bool(backs_constraint),
        }
        for name, table, definition, unique, primary, predicate, columns, backs_constraint in rows(_INDEXES)
        if table in tables
    }
    sequences = {
        name: {
            "type": type_,
            "start": int(start),
            "increment": int(increment),
            "min": int(minimum),
            "max": int(maximum),
            "cycle": bool(cycle),
            "owned_by": owned_by,
        }
        for name, type_, start, increment, minimum, maximum, cycle, owned_by in rows(_SEQUENCES)
        if not owned_by or owned_by.split(".", 1)[0] not in exclude
    }
    return {
        "tables": tables,
        "indexes": indexes,
        "enums": {name: list(labels) for name, labels in rows(_ENUMS)},
        "domains": {name: {"type": type_, "not_null": bool(nn)} for name, type_, nn in rows(_DOMAINS)},
        "sequences": sequences,
        "views": {name: {"kind": kind, "definition": definition} for name, kind, definition in rows(_VIEWS)},
        "functions": {
            sig: {"kind": kind, "result": result, "source_md5": md5} for sig, kind, result, md5 in rows(_FUNCTIONS)
        },
        "triggers": {name: definition for name, definition in rows(_TRIGGERS)},
    }


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
            out += _compare("column", old[table]["columns"], new[table]["columns"], f"{table}.")
            out += _compare("constraint", old[table]["constraints"], new[table]["constraints"], f"{table}.")
    return out
