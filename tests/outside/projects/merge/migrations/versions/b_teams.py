"""b_teams"""

import sqlalchemy as sa
from alembic import op

revision = "b_teams"
down_revision = "a_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80), nullable=False)
    )


def downgrade() -> None:
    op.drop_table("teams")
