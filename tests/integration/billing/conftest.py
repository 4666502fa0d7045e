"""Helpers for the billing schema tests: a pg_catalog snapshot of a schema, and pg_dump of it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from dbops.backends.pgbin import find_pgbin
from dbops.core.dburl import URL
from dbops.core.errors import BackendUnavailable
from dbops.core.urls import libpq_url, plain_url

Snapshot = dict[str, list[tuple[Any, ...]]]

# Every query returns rows whose first column is the table (or type) they describe.
_CATALOG_QUERIES = {
    "tables": """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')""",
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'""",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "sequences": "SELECT sequencename, data_type::text FROM pg_sequences WHERE schemaname = 'public'",
    "types": """
        SELECT t.typname, t.typtype,
               array_to_string(ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
                                     ORDER BY e.enumsortorder), ',')
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm')""",
}


def catalog_snapshot(
    url: URL, skip: frozenset[str] = frozenset({"alembic_version", "alembic_version_pkc"})
) -> Snapshot:
    """Tables, columns (order ignored), constraints, indexes, sequences and enum labels of ``public``."""
    engine = create_engine(plain_url(url))
    try:
        with engine.connect() as conn:
            return {
                kind: sorted(tuple(row) for row in conn.execute(text(sql)) if row[0] not in skip)
                for kind, sql in _CATALOG_QUERIES.items()
            }
    finally:
        engine.dispose()


def _pg_dump_binary() -> str | None:
    # pg_dump refuses a newer server: the one next to the server binaries dbops uses comes first.
    try:
        ours: str | None = str(find_pgbin(os.environ.get("DBOPS_PG_VERSION")).bindir / "pg_dump")
    except BackendUnavailable:
        ours = None
    for candidate in (ours, "/usr/lib/postgresql/15/bin/pg_dump", shutil.which("pg_dump")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def pg_dump_schema(url: URL) -> str:
    """``pg_dump --schema-only`` of the database, without the per-run random ``\\restrict`` keys."""
    binary = _pg_dump_binary()
    if binary is None:
        pytest.skip("pg_dump is not installed")
    result = subprocess.run(
        [binary, "--schema-only", "--no-owner", "--no-privileges", "--dbname", libpq_url(url)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    lines = [line for line in result.stdout.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))]
    return "\n".join(lines)


@pytest.fixture()
def snapshot() -> Callable[[URL], Snapshot]:
    """The function taking a pg_catalog snapshot of a database's public schema."""
    return catalog_snapshot


@pytest.fixture()
def schema_dump() -> Callable[[URL], str]:
    """The function returning a database's ``pg_dump --schema-only`` text."""
    return pg_dump_schema
