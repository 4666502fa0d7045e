"""Models that drifted: a column no migration creates."""

import sqlalchemy as sa

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("nickname", sa.String(40)),
)
