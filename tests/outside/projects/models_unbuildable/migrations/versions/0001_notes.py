"""notes"""

import sqlalchemy as sa
from alembic import op

revision = "0001_notes"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("key", sa.String(40)))
    op.create_index("ix_notes_key", "notes", ["key"])


def downgrade() -> None:
    op.drop_index("ix_notes_key", table_name="notes")
    op.drop_table("notes")
