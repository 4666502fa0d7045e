"""notes"""

import sqlalchemy as sa
from alembic import op

revision = "0002_notes"
down_revision = "0001_accounts"


def upgrade():
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
    )


def downgrade():
    op.drop_table("notes")
