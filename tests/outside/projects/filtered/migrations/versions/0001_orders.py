"""orders, and the legacy import table an outside job fills"""

import sqlalchemy as sa
from alembic import op

revision = "0001_orders"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders", sa.Column("id", sa.Integer, primary_key=True), sa.Column("total", sa.Integer, nullable=False)
    )
    op.create_table("legacy_import", sa.Column("line", sa.Text))


def downgrade() -> None:
    op.drop_table("legacy_import")
    op.drop_table("orders")
