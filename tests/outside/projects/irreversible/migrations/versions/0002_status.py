"""0002_status"""

import sqlalchemy as sa
from alembic import op

revision = "0002_status"
down_revision = "0001_runs"
# dbops: downgrade-floor (revisions up to here are irreversible by design)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("status", sa.String(20), nullable=False, server_default="new"))
    op.alter_column("runs", "status", server_default=None)


def downgrade() -> None:
    pass
