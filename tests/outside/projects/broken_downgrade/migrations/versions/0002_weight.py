"""0002_weight"""

import sqlalchemy as sa
from alembic import op

revision = "0002_weight"
down_revision = "0001_items"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("items", sa.Column("weight", sa.Integer))


def downgrade() -> None:
    pass
