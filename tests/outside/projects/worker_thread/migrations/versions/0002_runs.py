"""runs"""

import sqlalchemy as sa
from alembic import op

revision = "0002_runs"
down_revision = "0001_flows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("flow_id", sa.Integer, sa.ForeignKey("flows.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False, server_default="PENDING"),
    )
    op.create_index("ix_runs_flow_id", "runs", ["flow_id"])


def downgrade() -> None:
    op.drop_index("ix_runs_flow_id", table_name="runs")
    op.drop_table("runs")
