"""c001_tenants"""

import sqlalchemy as sa
from alembic import op

revision = "c001_tenants"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tenants", sa.Column("id", sa.Integer, primary_key=True), sa.Column("slug", sa.String(40), nullable=False)
    )


def downgrade() -> None:
    op.drop_table("tenants")
