"""adopted: the schema in db/baseline.sql was there before this history"""

revision = "0001_adopted"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
