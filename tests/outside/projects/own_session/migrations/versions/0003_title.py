"""notes.title"""

import sqlalchemy as sa
from alembic import op

revision = "0003_title"
down_revision = "0002_count"


def upgrade() -> None:
    op.add_column("notes", sa.Column("title", sa.String(80)))


def downgrade() -> None:
    op.drop_column("notes", "title")
