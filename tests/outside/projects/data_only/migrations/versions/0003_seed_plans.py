"""0003_seed_plans"""

from alembic import op

revision = "0003_seed_plans"
down_revision = "0002_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("INSERT INTO plans (code, price_cents) VALUES ('free', 0), ('pro', 900)")


def downgrade() -> None:
    pass
