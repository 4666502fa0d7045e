"""Models: the orders table as it is today."""

import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
)
