"""0002_plans"""

import sqlalchemy as sa
from alembic import op

revision = "0002_plans"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("price_cents", sa.Integer, nullable=False),
        sa.UniqueConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("plans")
