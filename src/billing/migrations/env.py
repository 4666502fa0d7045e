"""Alembic environment of the billing schema.

Where the database comes from, in order: a connection handed in by the caller as
``config.attributes["connection"]`` (used as is: never committed or closed here), a URL in
``config.attributes["url"]``, ``sqlalchemy.url`` in the ini file, the ``DATABASE_URL``
environment variable. Each migration runs in its own transaction, so a failing one leaves
the database at the previous revision.
"""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection, Engine, make_url

import billing.models

config = context.config
target_metadata = billing.models.metadata

if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# How long a migration waits for a table lock in production (a deploy retries; its users do not wait).
LOCK_TIMEOUT = os.environ.get("MIGRATION_LOCK_TIMEOUT", "5s")

COMPARE_OPTIONS: dict[str, Any] = {
    "target_metadata": target_metadata,
    "compare_type": True,
    "compare_server_default": True,
    "transaction_per_migration": True,
}


def database_url() -> str | None:
    """The URL to migrate, psycopg 3 driver forced; None when nothing names a database."""
    raw = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not raw:
        return None
    url = make_url(str(raw))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def run_migrations_offline() -> None:
    """Emit the SQL to a script instead of running it (``alembic upgrade --sql``)."""
    url = database_url()
    target: dict[str, Any] = {"url": url} if url else {"dialect_name": "postgresql"}
    context.configure(literal_binds=True, dialect_opts={"paramstyle": "named"}, **target, **COMPARE_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_with_connection(connection: Connection) -> None:
    """Run the migrations on ``connection``; the caller owns its outer transaction and its life."""
    context.configure(connection=connection, **COMPARE_OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations against a live database."""
    handed_in = config.attributes.get("connection")
    if isinstance(handed_in, Engine):  # pytest-alembic hands in an engine
        with handed_in.connect() as conn:
            run_with_connection(conn)
            conn.commit()
        return
    if handed_in is not None:
        run_with_connection(handed_in)
        return
    url = database_url()
    if url is None:
        raise RuntimeError(
            "no database to migrate: pass a connection or url in config.attributes, "
            "set sqlalchemy.url, or set DATABASE_URL=postgresql://user:password@host:5432/dbname"
        )
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            # A DDL statement queued behind a long query blocks every reader of its table: give up and retry.
            connection.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            connection.commit()
            run_with_connection(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
