"""Models of a project whose rename is not undone by its downgrade."""

import sqlalchemy as sa

metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False, index=True),
)
