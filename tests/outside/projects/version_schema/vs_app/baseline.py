"""What exists before Alembic runs: the schema that holds the version table."""

import sqlalchemy as sa


def create_meta_schema(url: str) -> None:
    """Create the meta schema (idempotent)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS meta"))
    engine.dispose()
