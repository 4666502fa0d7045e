"""flows, searched by name"""

import sqlalchemy as sa
from alembic import op

revision = "0001_flows"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "flows", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(100), nullable=False)
    )
    op.execute("CREATE INDEX trgm_ix_flows_name ON flows USING gin (name gin_trgm_ops)")


def downgrade() -> None:
    op.drop_index("trgm_ix_flows_name", table_name="flows")
    op.drop_table("flows")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
