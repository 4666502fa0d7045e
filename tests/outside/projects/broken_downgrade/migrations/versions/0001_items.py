"""0001_items"""

import sqlalchemy as sa
from alembic import op

revision = "0001_items"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.String(100), nullable=False)
    )


def downgrade() -> None:
    op.drop_table("items")
