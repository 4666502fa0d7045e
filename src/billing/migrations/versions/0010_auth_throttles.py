"""Throttle sensitive auth actions: attempts per action and hashed subject in a fixed window.

Revision ID: 0010_auth_throttles
Revises: 0009_payment_idempotency
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_auth_throttles"
down_revision: str | None = "0009_payment_idempotency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_throttles",
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("action", "subject_hash", name=op.f("pk_auth_throttles")),
        sa.CheckConstraint("attempts > 0", name=op.f("ck_auth_throttles_attempts_positive")),
    )


def downgrade() -> None:
    op.drop_table("auth_throttles")
