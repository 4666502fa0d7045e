"""0001_meta"""

import sqlalchemy as sa
from alembic import op

revision = "0001_meta"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS meta")
    op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("body", sa.Text, nullable=False))


def downgrade() -> None:
    op.drop_table("notes")
