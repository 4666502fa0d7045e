"""tags"""

import sqlalchemy as sa
from alembic import op
from se_app.tags import Tag

revision = "0002_tags"
down_revision = "0001_runs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        Tag.__tablename__,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", name="tags_run_id_fkey"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table(Tag.__tablename__)
