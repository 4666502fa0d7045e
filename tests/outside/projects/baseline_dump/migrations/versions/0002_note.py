"""orders.note"""

import sqlalchemy as sa
from alembic import op

revision = "0002_note"
down_revision = "0001_adopted"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("note", sa.Text))


def downgrade() -> None:
    op.drop_column("orders", "note")
