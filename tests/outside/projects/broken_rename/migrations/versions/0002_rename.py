"""0002_rename"""

from alembic import op

revision = "0002_rename"
down_revision = "0001_customer"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.rename_table("customer", "customers")


def downgrade() -> None:
    op.alter_column("customers", "name", nullable=False)
