"""t001_documents"""

import sqlalchemy as sa
from alembic import op

revision = "t001_documents"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents", sa.Column("id", sa.Integer, primary_key=True), sa.Column("title", sa.Text, nullable=False)
    )


def downgrade() -> None:
    op.drop_table("documents")
