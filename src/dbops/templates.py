"""Template databases: migrate once, then clone with CREATE DATABASE ... TEMPLATE."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.schema import CreateTable

from dbops import database, migrations
from dbops.config import Settings, import_object
from dbops.locks import file_lock
from dbops.urls import with_database

TEMPLATE_PREFIX = "dbops_tpl_"
# FILE_COPY skips WAL-logging every block of the template; measured faster for small schemas
# (benchmarks/RESULTS.md), and it is what PostgreSQL < 15 always did.
DEFAULT_STRATEGY = "FILE_COPY"


def fingerprint(settings: Settings, extra: str = "") -> str:
    """A short hash of the migration files and the models' DDL: the template's identity."""
    digest = hashlib.sha256(extra.encode())
    script = migrations.script_directory(settings)
    for folder in script._version_locations:  # every versions folder Alembic reads
        for path in sorted(Path(folder).rglob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    metadata = import_object(settings.metadata, "metadata")
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    for table in metadata.sorted_tables:
        digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
    return digest.hexdigest()[:12]


def server_version(server: URL) -> int:
    """The server's version number, e.g. 150004."""
    with database.connect(server) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    return int(row[0]) if row else 0


def ensure_template(
    settings: Settings,
    server: URL,
    tag: str = "head",
    build: Callable[[URL], None] | None = None,
) -> str:
    """The name of an up-to-date template database, built (migrated, then ``build``) only if missing."""
    name = f"{TEMPLATE_PREFIX}{settings.database}_{tag}_{fingerprint(settings, tag)}"[:63]
    lock_dir = settings.cache_dir / "locks"
    with file_lock(lock_dir / f"{name}.lock"):
        if database.exists(server, name):
            return name
        # One build name per template: a leftover from an interrupted build is simply dropped.
        building = f"dbops_bld_{settings.database}_{tag}"[:63]
        database.drop(server, building)
        url = database.create(server, building)
        try:
            migrations.upgrade(settings, url, "head" if tag in ("head", "seeded") else tag)
            if build is not None:
                build(url)
            with database.connect(server) as conn:
                # Rename only when complete, so an interrupted build never looks like a template.
                conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
                conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
        except BaseException:
            database.drop(server, building)
            raise
        for old in database.list_databases(server, f"{TEMPLATE_PREFIX}{settings.database}_{tag}_"):
            if old != name:  # stale: built from older migrations or models
                database.drop(server, old)
    return name


def clone(server: URL, template: str, name: str, strategy: str | None = None) -> URL:
    """Create database ``name`` as a copy of ``template``; return its URL."""
    if strategy is None and server_version(server) >= 150000:
        strategy = DEFAULT_STRATEGY
    database.create(server, name, template=template, strategy=strategy)
    return with_database(server, name)
