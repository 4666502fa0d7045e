"""0001_people"""

import sqlalchemy as sa
from alembic import op

revision = "0001_people"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(100), nullable=False)
    )


def downgrade() -> None:
    op.drop_table("people")
