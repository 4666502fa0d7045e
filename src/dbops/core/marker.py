"""The mark dbops leaves on every database it creates, so that reset-db knows which ones it may drop unasked.

The mark is the database's comment (pg_shdescription): per database, kept across restarts and renames.
CREATE DATABASE ... TEMPLATE does not copy it, so every copy is marked after it is made. psycopg alone,
no SQLAlchemy: the warm reset reads and writes it too.
"""

from __future__ import annotations

from psycopg import sql

PREFIX = "dbops: created"
MARKER = f"{PREFIX} by dbops, which may drop and recreate it"


def mark(name: str) -> sql.Composed:
    """The statement that marks database ``name`` as made by dbops."""
    return sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(MARKER))


def is_marked(comment: str | None) -> bool:
    """True if a database's comment (``shobj_description(oid, 'pg_database')``) is dbops's mark."""
    return bool(comment and comment.startswith(PREFIX))
