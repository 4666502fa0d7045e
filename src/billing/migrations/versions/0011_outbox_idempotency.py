"""Mail outbox, idempotency records bound to the request, growing login delays, payment methods by token only.

Revision ID: 0011_outbox_idempotency
Revises: 0010_auth_throttles
Create Date: 2026-11-28

Card numbers stored as a payment method's provider_method_id before this revision are removed (the
row keeps its last four digits; the provider never issued a token for it, so it can no longer be
charged), then a CHECK keeps them out: a provider's token starts with a letter. The downgrade drops
the new tables, column and CHECK; the removed card numbers are not restored.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import SchemaItem

revision: str = "0011_outbox_idempotency"
down_revision: str | None = "0010_auth_throttles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAIL_STATUS = postgresql.ENUM("pending", "sent", "failed", name="mail_status", create_type=False)
TZ = sa.DateTime(timezone=True)
# A provider_method_id that is only digits, spaces and dashes was a card number, not a token.
REDACT_CARD_NUMBERS = """
UPDATE payment_methods
SET last4 = coalesce(last4, right(regexp_replace(provider_method_id, '[^0-9]', '', 'g'), 4)),
    provider_method_id = 'pm_removed_card_number_' || id
WHERE provider_method_id !~ '^[A-Za-z]'
"""


def _owner_and_id() -> list[SchemaItem]:
    """The identity id and the user_id (deleted with the user) both new tables start with."""
    return [
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
    ]


def _created_and_keys(table: str) -> list[SchemaItem]:
    """created_at, the primary key and the user foreign key both new tables end with."""
    return [
        sa.Column("created_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"),
    ]


def upgrade() -> None:
    MAIL_STATUS.create(op.get_bind(), checkfirst=False)
    # Each table is created by a literal op.create_table, which is what a reader of the history looks for.
    op.create_table(
        "mail_outbox",
        *_owner_and_id(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("requested_ip", postgresql.INET(), nullable=True),
        sa.Column("status", MAIL_STATUS, server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_mail_outbox_attempts_nonnegative")),
        sa.CheckConstraint(
            "kind IN ('welcome', 'already_registered', 'password_reset')", name=op.f("ck_mail_outbox_kind_known")
        ),
        *_created_and_keys("mail_outbox"),
    )
    op.create_index(op.f("ix_mail_outbox_user_id"), "mail_outbox", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_mail_outbox_next_attempt_at_pending"),
        "mail_outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "idempotency_records",
        *_owner_and_id(),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response_body", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("user_id", "idempotency_key", name=op.f("uq_idempotency_records_user_id_idempotency_key")),
        sa.CheckConstraint("status_code BETWEEN 200 AND 599", name=op.f("ck_idempotency_records_status_code_range")),
        *_created_and_keys("idempotency_records"),
    )
    op.add_column("auth_throttles", sa.Column("blocked_until", TZ, nullable=True))
    op.execute(REDACT_CARD_NUMBERS)
    op.create_check_constraint(
        op.f("ck_payment_methods_provider_method_id_is_token"), "payment_methods", "provider_method_id ~ '^[A-Za-z]'"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_payment_methods_provider_method_id_is_token"), "payment_methods", type_="check")
    op.drop_column("auth_throttles", "blocked_until")
    op.drop_table("idempotency_records")
    op.drop_index(op.f("ix_mail_outbox_next_attempt_at_pending"), table_name="mail_outbox")
    op.drop_index(op.f("ix_mail_outbox_user_id"), table_name="mail_outbox")
    op.drop_table("mail_outbox")
    MAIL_STATUS.drop(op.get_bind(), checkfirst=False)
