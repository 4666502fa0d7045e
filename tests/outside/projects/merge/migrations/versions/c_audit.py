"""c_audit"""

import sqlalchemy as sa
from alembic import op

revision = "c_audit"
down_revision = "a_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("audit", sa.Column("id", sa.Integer, primary_key=True), sa.Column("what", sa.Text, nullable=False))


def downgrade() -> None:
    op.drop_table("audit")
