"""Add subscription_addons: add-ons attached to subscriptions, at most one open row per add-on.

Revision ID: 0007_subscription_addons
Revises: 0006_feature_usage
Create Date: 2026-02-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_subscription_addons"
down_revision: str | None = "0006_feature_usage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscription_addons",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("addon_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_addons")),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_subscription_addons_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_subscription_addons_unit_price_nonnegative")),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_subscription_addons_currency_format")),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at > started_at", name=op.f("ck_subscription_addons_ended_after_started")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_addons_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["addon_id"], ["addons.id"], name=op.f("fk_subscription_addons_addon_id_addons"), ondelete="RESTRICT"
        ),
    )
    op.create_index(
        op.f("ix_subscription_addons_subscription_id"), "subscription_addons", ["subscription_id"], unique=False
    )
    op.create_index(op.f("ix_subscription_addons_addon_id"), "subscription_addons", ["addon_id"], unique=False)
    op.create_index(
        op.f("uq_subscription_addons_subscription_id_addon_id_open"),
        "subscription_addons",
        ["subscription_id", "addon_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(op.f("uq_subscription_addons_subscription_id_addon_id_open"), table_name="subscription_addons")
    op.drop_index(op.f("ix_subscription_addons_addon_id"), table_name="subscription_addons")
    op.drop_index(op.f("ix_subscription_addons_subscription_id"), table_name="subscription_addons")
    op.drop_table("subscription_addons")
