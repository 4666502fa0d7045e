"""Add token_balances and token_transactions, with the token_transaction_kind enum.

Revision ID: 0005_token_balances
Revises: 0004_password_reset
Create Date: 2026-02-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_token_balances"
down_revision: str | None = "0004_password_reset"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN_TRANSACTION_KIND = postgresql.ENUM(
    "purchase", "grant", "consume", "refund", "expire", "adjustment", name="token_transaction_kind", create_type=False
)


def upgrade() -> None:
    TOKEN_TRANSACTION_KIND.create(op.get_bind(), checkfirst=False)
    op.create_table(
        "token_balances",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_balances")),
        sa.UniqueConstraint("user_id", name=op.f("uq_token_balances_user_id")),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_token_balances_balance_nonnegative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_token_balances_user_id_users"), ondelete="CASCADE"
        ),
    )
    op.create_table(
        "token_transactions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", TOKEN_TRANSACTION_KIND, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("purchase_id", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.String(64), nullable=True),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_transactions")),
        sa.UniqueConstraint("user_id", "idempotency_key", name=op.f("uq_token_transactions_user_id_idempotency_key")),
        sa.CheckConstraint(
            "(kind IN ('purchase', 'grant', 'refund') AND amount > 0)"
            " OR (kind IN ('consume', 'expire') AND amount < 0)"
            " OR (kind = 'adjustment' AND amount <> 0)",
            name=op.f("ck_token_transactions_amount_sign_matches_kind"),
        ),
        sa.CheckConstraint("balance_after >= 0", name=op.f("ck_token_transactions_balance_after_nonnegative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_token_transactions_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["token_bundle_purchases.id"],
            name=op.f("fk_token_transactions_purchase_id_token_bundle_purchases"),
            ondelete="SET NULL",
        ),
    )
    op.create_index(
        op.f("ix_token_transactions_user_id_created_at"),
        "token_transactions",
        ["user_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_token_transactions_purchase_id"), "token_transactions", ["purchase_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_token_transactions_purchase_id"), table_name="token_transactions")
    op.drop_index(op.f("ix_token_transactions_user_id_created_at"), table_name="token_transactions")
    op.drop_table("token_transactions")
    op.drop_table("token_balances")
    TOKEN_TRANSACTION_KIND.drop(op.get_bind(), checkfirst=False)
