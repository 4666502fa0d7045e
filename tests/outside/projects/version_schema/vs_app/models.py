"""Models of a project that keeps Alembic's version table in its own schema."""

import sqlalchemy as sa

metadata = sa.MetaData()
notes = sa.Table(
    "notes", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text, nullable=False)
)
