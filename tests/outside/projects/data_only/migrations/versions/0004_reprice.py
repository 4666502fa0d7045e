"""0004_reprice"""

from alembic import op

revision = "0004_reprice"
down_revision = "0003_seed_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # op.bulk_insert(plans_table, [{"code": "team", "price_cents": 2900}])
    op.execute("INSERT INTO plans (code, price_cents) VALUES ('team', 2900)")
    op.execute("UPDATE plans SET price_cents = 1200 WHERE code = 'pro'")


def downgrade() -> None:
    op.execute("DELETE FROM plans WHERE code = 'team'")
