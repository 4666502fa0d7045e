"""Models of a project with data-only revisions."""

import sqlalchemy as sa

metadata = sa.MetaData()
plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(40), nullable=False, unique=True),
    sa.Column("price_cents", sa.Integer, nullable=False),
)
