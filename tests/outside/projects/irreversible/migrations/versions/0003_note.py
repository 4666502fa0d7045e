"""0003_note"""

import sqlalchemy as sa
from alembic import op

revision = "0003_note"
down_revision = "0002_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("note", sa.Text))


def downgrade() -> None:
    op.drop_column("runs", "note")
