"""runs, with the status check the model declares"""

import sqlalchemy as sa
from alembic import op
from se_app.models import STATUSES, Run

revision = "0001_runs"
down_revision = None
branch_labels = None
depends_on = None

# Built from the model's column at import: SQLAlchemy attaches it to the model's table as well.
STATUS_CHECK = sa.CheckConstraint(Run.status.in_(STATUSES), name="status")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.CheckConstraint(sa.column("status").in_(STATUSES), name="status"),
    )


def downgrade() -> None:
    op.drop_table("runs")
