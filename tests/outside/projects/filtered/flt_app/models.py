"""Models of a project that keeps a table outside its models on purpose (env.py's include_object)."""

import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("total", sa.Integer, nullable=False)
)
