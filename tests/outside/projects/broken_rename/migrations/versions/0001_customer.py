"""0001_customer"""

import sqlalchemy as sa
from alembic import op

revision = "0001_customer"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(100), nullable=False)
    )
    op.create_index("ix_customers_name", "customer", ["name"])


def downgrade() -> None:
    op.drop_index("ix_customers_name", table_name="customer")
    op.drop_table("customer")
