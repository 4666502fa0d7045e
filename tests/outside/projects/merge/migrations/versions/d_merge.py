"""d_merge"""

revision = "d_merge"
down_revision = ("b_teams", "c_audit")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
