"""Payments carry the client's idempotency key: one charge per key and user.

Revision ID: 0009_payment_idempotency
Revises: 0008_rbac
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_payment_idempotency"
down_revision: str | None = "0008_rbac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("idempotency_key", sa.String(255), nullable=True))
    op.create_unique_constraint(op.f("uq_payments_user_id_idempotency_key"), "payments", ["user_id", "idempotency_key"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_payments_user_id_idempotency_key"), "payments", type_="unique")
    op.drop_column("payments", "idempotency_key")
