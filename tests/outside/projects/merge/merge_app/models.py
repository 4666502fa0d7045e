"""Models of a project whose history branched and was merged."""

import sqlalchemy as sa

metadata = sa.MetaData()
users = sa.Table(
    "users", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(200), nullable=False)
)
teams = sa.Table(
    "teams", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80), nullable=False)
)
audit = sa.Table(
    "audit", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("what", sa.Text, nullable=False)
)
