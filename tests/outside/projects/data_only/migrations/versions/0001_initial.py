"""0001_initial"""

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """An empty first revision, as `alembic revision -m initial` writes it."""
    pass


def downgrade() -> None:
    pass
