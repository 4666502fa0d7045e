"""One schema as PostgreSQL itself prints it: a JSON-ready pg_catalog snapshot, read over psycopg.

Every expression, type and definition is PostgreSQL's own deparsing (``format_type``, ``pg_get_expr``,
``pg_get_constraintdef``, ``pg_get_indexdef``), so two databases that hold the same schema give equal
snapshots whatever spelling built them, and "before upgrade" equals "after downgrade" exactly when the
downgrade restored the schema. There are no OIDs, nothing that changes when an object is dropped and
recreated identically. Objects that belong to an extension are left out (they come and go with it).

Shape (names are unquoted unless stated; lists keep PostgreSQL's order)::

    {
      "tables": {name: {
          "comment": str | None,
          "columns": {name: {
              "type": format_type text ("character varying(20)", "mood[]"),
              "nullable": bool,
              "default": pg_get_expr text | None (for a generated column, its expression),
              "identity": "always" | "by default" | None,
              "generated": "stored" | "virtual" | None,
              "collation": str | None (only when not the type's default),
              "comment": str | None,
              "enum": name of the schema's enum type it holds (directly or as array element) | None,
              "sequence": the sequence the column owns (serial or identity) as expressions name it,
                          quoted and qualified where PostgreSQL would ("t_id_seq") | None}},
          "constraints": {name: {
              "type": "primary key" | "foreign key" | "unique" | "check" | "exclude",
              "definition": pg_get_constraintdef text (" NOT VALID" appended when not validated),
              "columns": [column, ...] (key order),
              "deferrable": bool, "initially_deferred": bool, "validated": bool,
              # foreign keys only:
              "ref_schema": str, "ref_table": str, "ref_columns": [column, ...],
              "on_delete": "NO ACTION" | "RESTRICT" | "CASCADE" | "SET NULL" | "SET DEFAULT",
              "on_update": same words, "match": "SIMPLE" | "FULL" | "PARTIAL",
              # unique only:
              "nulls_not_distinct": bool (False before PostgreSQL 15)}}}},
      "indexes": {name: {
          "table": str, "unique": bool, "primary": bool, "method": "btree" | "gin" | ...,
          "columns": [key column or expression, as pg_get_indexdef prints each],
          "include": [INCLUDE column, ...], "predicate": pg_get_expr text | None,
          "nulls_not_distinct": bool,
          "definition": pg_get_indexdef without the index name and the table's schema
                        ("CREATE UNIQUE INDEX ON t USING btree (lower(email))"),
          "constraint": name of the primary key, unique or exclusion constraint it backs | None}},
      "enums": {name: [label, ...]},
      "domains": {name: {"type": str, "not_null": bool, "default": str | None, "checks": {name: definition}}},
      "sequences": {name: {"type": str, "start": int, "increment": int, "min": int, "max": int,
                           "cycle": bool, "owned_by": "table.column" | None}},
      "views": {name: {"kind": "v" | "m", "definition": str}},
      "functions": {signature: {"kind": str, "result": str, "source_md5": str}},
      "triggers": {"table.trigger": pg_get_triggerdef text},
      "extensions": {name: {"schema": str, "version": str}} (every extension of the database),
    }
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.rows import tuple_row

# Alembic's own bookkeeping: present after any upgrade, so never part of the schema under test.
VERSION_TABLE = "alembic_version"

_NS = "(SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)"


def _own(catalog: str, oid: str) -> str:
    """SQL: the object is not a member of an extension."""
    return (
        f"NOT EXISTS (SELECT 1 FROM pg_depend x"
        f" WHERE x.classid = '{catalog}'::regclass AND x.objid = {oid} AND x.deptype = 'e')"
    )


_TABLES = f"""
SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c
WHERE c.relnamespace = {_NS} AND c.relkind IN ('r', 'p') AND {_own("pg_class", "c.oid")} ORDER BY 1
"""
_COLUMNS = f"""
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, a.attgenerated::text,
       CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END,
       col_description(a.attrelid, a.attnum),
       (SELECT e.typname::text FROM pg_type e
        WHERE e.oid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
          AND e.typtype = 'e' AND e.typnamespace = c.relnamespace),
       (SELECT s.oid::regclass::text FROM pg_depend p JOIN pg_class s ON s.oid = p.objid
        WHERE p.classid = 'pg_class'::regclass AND p.refclassid = 'pg_class'::regclass AND p.refobjid = a.attrelid
          AND p.refobjsubid = a.attnum AND p.deptype IN ('a', 'i') AND s.relkind = 'S' ORDER BY 1 LIMIT 1)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace = {_NS} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, a.attnum
"""
_KEY_NAMES = """ARRAY(SELECT a.attname::text FROM unnest(k.{key}) WITH ORDINALITY u(n, i)
             JOIN pg_attribute a ON a.attrelid = k.{rel} AND a.attnum = u.n ORDER BY u.i)"""
# In the constraint query the unique constraint's NULLS NOT DISTINCT is its index's.
_UNIQUE_NND = (
    "COALESCE((SELECT {nulls_not_distinct} FROM pg_index i WHERE i.indexrelid = k.conindid AND k.contype = 'u'), false)"
)
_CONSTRAINTS = f"""
SELECT c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid),
       {_KEY_NAMES.format(key="conkey", rel="conrelid")},
       rn.nspname::text, rc.relname::text, {_KEY_NAMES.format(key="confkey", rel="confrelid")},
       k.confdeltype::text, k.confupdtype::text, k.confmatchtype::text,
       k.condeferrable, k.condeferred, k.convalidated, {_UNIQUE_NND}
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
LEFT JOIN pg_class rc ON rc.oid = k.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE c.relnamespace = {_NS} AND k.contype IN ('p', 'f', 'u', 'c', 'x')
ORDER BY 1, 2
"""
_INDEXES = f"""
SELECT ic.relname, tc.relname, pg_get_indexdef(i.indexrelid), quote_ident(ic.relname), quote_ident(n.nspname),
       i.indisunique, i.indisprimary, pg_get_expr(i.indpred, i.indrelid), am.amname::text,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnkeyatts) k ORDER BY k),
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(i.indnkeyatts + 1, i.indnatts) k ORDER BY k),
       {{nulls_not_distinct}},
       (SELECT k.conname::text FROM pg_constraint k
        WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = tc.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE tc.relnamespace = {_NS} AND tc.relkind IN ('r', 'p')
ORDER BY 1
"""
_ENUMS = f"""
SELECT t.typname, ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_type t WHERE t.typnamespace = {_NS} AND t.typtype = 'e' AND {_own("pg_type", "t.oid")} ORDER BY 1
"""
_DOMAINS = f"""
SELECT t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull, pg_get_expr(t.typdefaultbin, 0),
       ARRAY(SELECT k.conname::text FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY 1),
       ARRAY(SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k
             WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY k.conname)
FROM pg_type t WHERE t.typnamespace = {_NS} AND t.typtype = 'd' AND {_own("pg_type", "t.oid")} ORDER BY 1
"""
_SEQUENCES = f"""
SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcycle,
       (SELECT r.relname || '.' || a.attname FROM pg_depend d
        JOIN pg_class r ON r.oid = d.refobjid
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') LIMIT 1)
FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid
WHERE c.relnamespace = {_NS} AND c.relkind = 'S' AND {_own("pg_class", "c.oid")} ORDER BY 1
"""
_VIEWS = f"""
SELECT c.relname, c.relkind::text, pg_get_viewdef(c.oid)
FROM pg_class c WHERE c.relnamespace = {_NS} AND c.relkind IN ('v', 'm') AND {_own("pg_class", "c.oid")} ORDER BY 1
"""
_FUNCTIONS = f"""
SELECT p.oid::regprocedure::text, p.prokind::text, pg_get_function_result(p.oid), md5(p.prosrc)
FROM pg_proc p WHERE p.pronamespace = {_NS} AND {_own("pg_proc", "p.oid")}
ORDER BY 1
"""
_TRIGGERS = f"""
SELECT c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = {_NS} AND NOT t.tgisinternal ORDER BY 1
"""
_EXTENSIONS = """
SELECT e.extname, n.nspname, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace ORDER BY 1
"""

_CONSTRAINT_TYPES = {"p": "primary key", "f": "foreign key", "u": "unique", "c": "check", "x": "exclude"}
_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
_MATCH = {"s": "SIMPLE", "f": "FULL", "p": "PARTIAL"}
_IDENTITY = {"a": "always", "d": "by default"}
_GENERATED = {"s": "stored", "v": "virtual"}


def index_definition(indexdef: str, quoted_name: str, quoted_schema: str) -> str:
    """``pg_get_indexdef`` text without the index name and the table's schema, so renamed twins compare equal.

    A definition of an unexpected form is returned whole: it then still compares, only not across names.
    """
    for head in ("CREATE UNIQUE INDEX ", "CREATE INDEX "):
        prefix = f"{head}{quoted_name} ON "
        if indexdef.startswith(prefix):
            rest = indexdef[len(prefix) :]
            only = "ONLY " if rest.startswith("ONLY ") else ""
            rest = rest[len(only) :]
            if rest.startswith(quoted_schema + "."):
                return f"{head}ON {only}{rest[len(quoted_schema) + 1 :]}"
    return indexdef


def read_extensions(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(name, schema) of each extension the database has, but plpgsql, which every database has."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(_EXTENSIONS)
        return [(name, schema) for name, schema, _ in cur.fetchall() if name != "plpgsql"]


def read_catalog(
    conn: psycopg.Connection[Any], schema: str = "public", exclude: Iterable[str] = (VERSION_TABLE,)
) -> dict[str, Any]:
    """The schema's tables, columns, constraints, indexes, enums, domains, sequences, views, functions, triggers."""
    params = {"schema": schema}
    # NULLS NOT DISTINCT exists from PostgreSQL 15; before it, every unique index treats NULLs as distinct.
    nnd = "i.indnullsnotdistinct" if conn.info.server_version >= 150000 else "false"
    skip = set(exclude)

    def rows(query: str) -> list[tuple[Any, ...]]:
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(query.replace("{nulls_not_distinct}", nnd), params)
            return cur.fetchall()

    tables: dict[str, Any] = {
        name: {"comment": comment, "columns": {}, "constraints": {}}
        for name, comment in rows(_TABLES)
        if name not in skip
    }
    for table, column, type_, nullable, default, identity, generated, collation, comment, enum, seq in rows(_COLUMNS):
        if table in tables:
            tables[table]["columns"][column] = {
                "type": type_,
                "nullable": bool(nullable),
                "default": default,
                "identity": _IDENTITY.get(identity or ""),
                "generated": _GENERATED.get(generated or ""),
                "collation": collation,
                "comment": comment,
                "enum": enum,
                "sequence": seq,
            }
    for table, name, *con in rows(_CONSTRAINTS):
        if table in tables:
            tables[table]["constraints"][name] = _constraint(*con)
    indexes = {
        name: {
            "table": table,
            "unique": bool(unique),
            "primary": bool(primary),
            "method": method,
            "columns": list(columns),
            "include": list(include),
            "predicate": predicate,
            "nulls_not_distinct": bool(nulls_not_distinct),
            "definition": index_definition(definition, quoted_name, quoted_schema),
            "constraint": constraint,
        }
        for (
            name,
            table,
            definition,
            quoted_name,
            quoted_schema,
            unique,
            primary,
            predicate,
            method,
            columns,
            include,
            nulls_not_distinct,
            constraint,
        ) in rows(_INDEXES)
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
        if not owned_by or owned_by.split(".", 1)[0] not in skip
    }
    return {
        "tables": tables,
        "indexes": indexes,
        "enums": {name: list(labels) for name, labels in rows(_ENUMS)},
        "domains": {
            name: {
                "type": type_,
                "not_null": bool(nn),
                "default": default,
                "checks": dict(zip(names, defs, strict=True)),
            }
            for name, type_, nn, default, names, defs in rows(_DOMAINS)
        },
        "sequences": sequences,
        "views": {name: {"kind": kind, "definition": definition} for name, kind, definition in rows(_VIEWS)},
        "functions": {
            sig: {"kind": kind, "result": result, "source_md5": md5} for sig, kind, result, md5 in rows(_FUNCTIONS)
        },
        "triggers": dict(rows(_TRIGGERS)),
        "extensions": {name: {"schema": ns, "version": version} for name, ns, version in rows(_EXTENSIONS)},
    }


def _constraint(
    kind: str,
    definition: str,
    columns: list[str],
    ref_schema: str | None,
    ref_table: str | None,
    ref_columns: list[str],
    on_delete: str,
    on_update: str,
    match: str,
    deferrable: bool,
    deferred: bool,
    validated: bool,
    nulls_not_distinct: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": _CONSTRAINT_TYPES[kind],
        "definition": definition,
        "columns": list(columns),
        "deferrable": bool(deferrable),
        "initially_deferred": bool(deferred),
        "validated": bool(validated),
    }
    if kind == "f":
        out.update(
            ref_schema=ref_schema,
            ref_table=ref_table,
            ref_columns=list(ref_columns),
            on_delete=_ACTIONS[on_delete],
            on_update=_ACTIONS[on_update],
            match=_MATCH.get(match, match),
        )
    elif kind == "u":
        out["nulls_not_distinct"] = bool(nulls_not_distinct)
    return out
