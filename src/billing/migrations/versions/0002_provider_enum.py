"""Add the payment_provider enum and nullable ``provider`` columns converted from the free-text ones.

Revision ID: 0002_provider_enum
Revises: 0001_baseline
Create Date: 2026-02-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_provider_enum"
down_revision: str | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_PROVIDER = postgresql.ENUM(
    "stripe", "paypal", "braintree", "manual", name="payment_provider", create_type=False
)

# Table -> the old free-text column that named the provider.
OLD_COLUMNS = {
    "invoices": "payment_gateway",
    "payment_methods": "provider_name",
    "payments": "gateway",
    "webhook_events": "source",
}

# Old spellings, with case, spaces and punctuation removed, -> enum label.
SPELLINGS = {
    "stripe": "stripe",
    "paypal": "paypal",
    "braintree": "braintree",
    "manual": "manual",
    "banktransfer": "manual",
    "invoice": "manual",
}


def provider_from_text(column: str) -> str:
    """SQL mapping a free-text provider column to a payment_provider (NULL when unknown)."""
    normalized = f"regexp_replace(lower({column}), '[^a-z]', '', 'g')"
    whens = " ".join(f"WHEN '{spelling}' THEN '{label}'" for spelling, label in SPELLINGS.items())
    return f"(CASE {normalized} {whens} END)::payment_provider"


def upgrade() -> None:
    PAYMENT_PROVIDER.create(op.get_bind(), checkfirst=False)
    for table, old in OLD_COLUMNS.items():
        op.add_column(table, sa.Column("provider", PAYMENT_PROVIDER, nullable=True))
        op.execute(f"UPDATE {table} SET provider = {provider_from_text(old)} WHERE {old} IS NOT NULL")


def downgrade() -> None:
    for table in OLD_COLUMNS:
        op.drop_column(table, "provider")
    PAYMENT_PROVIDER.drop(op.get_bind(), checkfirst=False)
