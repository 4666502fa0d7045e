"""Make ``provider`` the only provider column: NOT NULL where required, old free-text columns dropped.

This is the sprint start: at this revision the database holds the 20 pre-sprint tables.

Revision ID: 0003_provider_columns
Revises: 0002_provider_enum
Create Date: 2026-02-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003_provider_columns"
down_revision: str | None = "0002_provider_enum"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAYMENT_PROVIDER = postgresql.ENUM(
    "stripe", "paypal", "braintree", "manual", name="payment_provider", create_type=False
)

# Table -> (old free-text column, whether the provider is required).
OLD_COLUMNS = {
    "invoices": ("payment_gateway", False),
    "payment_methods": ("provider_name", True),
    "payments": ("gateway", True),
    "webhook_events": ("source", True),
}

# Unique constraints that named the old column: table -> columns after the provider column.
UNIQUE_WITH_PROVIDER = {
    "payments": "provider_payment_id",
    "webhook_events": "event_id",
}

SPELLINGS = {
    "stripe": "stripe",
    "paypal": "paypal",
    "braintree": "braintree",
    "manual": "manual",
    "banktransfer": "manual",
    "invoice": "manual",
}

# Enum label -> the display name written back into the old columns on downgrade.
DISPLAY_NAMES = {"stripe": "Stripe", "paypal": "PayPal", "braintree": "Braintree", "manual": "Manual"}


def provider_from_text(column: str) -> str:
    """SQL mapping a free-text provider column to a payment_provider (NULL when unknown)."""
    normalized = f"regexp_replace(lower({column}), '[^a-z]', '', 'g')"
    whens = " ".join(f"WHEN '{spelling}' THEN '{label}'" for spelling, label in SPELLINGS.items())
    return f"(CASE {normalized} {whens} END)::payment_provider"


def text_from_provider() -> str:
    """SQL mapping the provider column back to the old display names."""
    whens = " ".join(f"WHEN '{label}' THEN '{name}'" for label, name in DISPLAY_NAMES.items())
    return f"CASE provider {whens} END"


def fail_on_unmapped(table: str, old: str) -> str:
    """A DO block that aborts the migration, naming the values, if some old text maps to no provider."""
    return (
        "DO $$ DECLARE unmapped text; BEGIN "
        f"SELECT string_agg(DISTINCT quote_literal({old}), ', ') INTO unmapped FROM {table} "
        f"WHERE provider IS NULL AND {old} IS NOT NULL; "
        "IF unmapped IS NOT NULL THEN RAISE EXCEPTION USING MESSAGE = "
        f"'{table}.{old} values that map to no payment_provider: ' || unmapped; "
        "END IF; END $$"
    )


def upgrade() -> None:
    for table, (old, required) in OLD_COLUMNS.items():
        # Rows written at 0002 through the old column only are converted too.
        op.execute(
            f"UPDATE {table} SET provider = {provider_from_text(old)} WHERE provider IS NULL AND {old} IS NOT NULL"
        )
        op.execute(fail_on_unmapped(table, old))
        if required:
            op.alter_column(table, "provider", existing_type=PAYMENT_PROVIDER, nullable=False)
        if table in UNIQUE_WITH_PROVIDER:
            other = UNIQUE_WITH_PROVIDER[table]
            op.drop_constraint(op.f(f"uq_{table}_{old}_{other}"), table, type_="unique")
            op.create_unique_constraint(op.f(f"uq_{table}_provider_{other}"), table, ["provider", other])
        op.drop_column(table, old)


def downgrade() -> None:
    for table, (old, required) in OLD_COLUMNS.items():
        op.add_column(table, sa.Column(old, sa.String(50), nullable=True))
        op.execute(f"UPDATE {table} SET {old} = {text_from_provider()} WHERE provider IS NOT NULL")
        if required:
            op.alter_column(table, old, existing_type=sa.String(50), nullable=False)
            op.alter_column(table, "provider", existing_type=PAYMENT_PROVIDER, nullable=True)
        if table in UNIQUE_WITH_PROVIDER:
            other = UNIQUE_WITH_PROVIDER[table]
            op.drop_constraint(op.f(f"uq_{table}_provider_{other}"), table, type_="unique")
            op.create_unique_constraint(op.f(f"uq_{table}_{old}_{other}"), table, [old, other])
