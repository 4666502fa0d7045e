"""Flows searched by name with a trigram index (the operator class comes with the pg_trgm extension)."""

import sqlalchemy as sa

metadata = sa.MetaData()
flows = sa.Table(
    "flows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Index("trgm_ix_flows_name", "name", postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}),
)
