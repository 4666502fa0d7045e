"""Models of a project in pytest-alembic's style."""

import sqlalchemy as sa

metadata = sa.MetaData()
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
)
