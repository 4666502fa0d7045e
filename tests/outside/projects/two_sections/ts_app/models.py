"""Two metadata objects: the core schema and the per-tenant schema."""

import sqlalchemy as sa

core = sa.MetaData()
tenants = sa.Table(
    "tenants", core, sa.Column("id", sa.Integer, primary_key=True), sa.Column("slug", sa.String(40), nullable=False)
)

tenant = sa.MetaData()
documents = sa.Table(
    "documents", tenant, sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.Text, nullable=False)
)
