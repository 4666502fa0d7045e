"""Add feature_usage: one usage counter per user, feature and period.

Revision ID: 0006_feature_usage
Revises: 0005_token_balances
Create Date: 2026-02-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_feature_usage"
down_revision: str | None = "0005_token_balances"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feature_usage",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feature_usage")),
        sa.UniqueConstraint(
            "user_id", "feature_id", "period_start", name=op.f("uq_feature_usage_user_id_feature_id_period_start")
        ),
        sa.CheckConstraint("used_count >= 0", name=op.f("ck_feature_usage_used_count_nonnegative")),
        sa.CheckConstraint("period_end > period_start", name=op.f("ck_feature_usage_period_end_after_start")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_feature_usage_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["feature_id"], ["features.id"], name=op.f("fk_feature_usage_feature_id_features"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_feature_usage_feature_id"), "feature_usage", ["feature_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_feature_usage_feature_id"), table_name="feature_usage")
    op.drop_table("feature_usage")
