"""Models of a project whose second downgrade forgets its column."""

import sqlalchemy as sa

metadata = sa.MetaData()
items = sa.Table(
    "items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("weight", sa.Integer),
)
