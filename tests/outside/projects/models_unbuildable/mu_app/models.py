"""Notes, whose key index is declared twice: once by index=True, once by name (create_all makes both)."""

import sqlalchemy as sa

metadata = sa.MetaData()
notes = sa.Table(
    "notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(40), index=True),
    sa.Index("ix_notes_key", "key"),
)
