"""Baseline: the 20 tables that existed before the sprint, with the old free-text provider columns.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BILLING_INTERVAL = postgresql.ENUM("month", "year", name="billing_interval", create_type=False)
USAGE_PERIOD = postgresql.ENUM("day", "month", name="usage_period", create_type=False)
SUBSCRIPTION_STATUS = postgresql.ENUM(
    "trialing", "active", "past_due", "canceled", "expired", name="subscription_status", create_type=False
)
SUBSCRIPTION_EVENT_TYPE = postgresql.ENUM(
    "created",
    "renewed",
    "upgraded",
    "downgraded",
    "canceled",
    "reactivated",
    "trial_ended",
    "payment_failed",
    name="subscription_event_type",
    create_type=False,
)
INVOICE_STATUS = postgresql.ENUM(
    "draft", "open", "paid", "void", "uncollectible", name="invoice_status", create_type=False
)
PAYMENT_STATUS = postgresql.ENUM("pending", "succeeded", "failed", "refunded", name="payment_status", create_type=False)
DISCOUNT_TYPE = postgresql.ENUM("percent", "fixed", name="discount_type", create_type=False)
WEBHOOK_EVENT_STATUS = postgresql.ENUM(
    "received", "processed", "failed", "ignored", name="webhook_event_status", create_type=False
)
ENUMS = (
    BILLING_INTERVAL,
    USAGE_PERIOD,
    SUBSCRIPTION_STATUS,
    SUBSCRIPTION_EVENT_TYPE,
    INVOICE_STATUS,
    PAYMENT_STATUS,
    DISCOUNT_TYPE,
    WEBHOOK_EVENT_STATUS,
)
CURRENCY_FORMAT = "currency ~ '^[A-Z]{3}$'"
TZ = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, TZ, nullable=nullable)


def _now(name: str) -> sa.Column[object]:
    return sa.Column(name, TZ, server_default=sa.text("now()"), nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def _pk(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def _uq(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=op.f(f"uq_{table}_{'_'.join(columns)}"))


def _ck(table: str, name: str, sqltext: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sqltext, name=op.f(f"ck_{table}_{name}"))


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns), unique=False)


def _create_auth() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _ts("email_verified_at"),
        _ts("last_login_at"),
        _now("created_at"),
        _now("updated_at"),
        _pk("users"),
        _uq("users", "email"),
        _ck("users", "email_lowercase", "email = lower(email)"),
    )
    op.create_table(
        "user_sessions",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        _ts("expires_at", nullable=False),
        _ts("last_seen_at"),
        _ts("revoked_at"),
        _now("created_at"),
        _pk("user_sessions"),
        _uq("user_sessions", "token_hash"),
        _ck("user_sessions", "expires_after_created", "expires_at > created_at"),
        _fk("user_sessions", "user_id", "users", "CASCADE"),
    )
    _index("user_sessions", "user_id")
    op.create_table(
        "email_verification_tokens",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        _ts("expires_at", nullable=False),
        _ts("used_at"),
        _now("created_at"),
        _pk("email_verification_tokens"),
        _uq("email_verification_tokens", "token_hash"),
        _ck("email_verification_tokens", "expires_after_created", "expires_at > created_at"),
        _fk("email_verification_tokens", "user_id", "users", "CASCADE"),
    )
    _index("email_verification_tokens", "user_id")
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(128), nullable=False),
        _ts("last_used_at"),
        _ts("expires_at"),
        _ts("revoked_at"),
        _now("created_at"),
        _pk("api_keys"),
        _uq("api_keys", "prefix"),
        _uq("api_keys", "key_hash"),
        _fk("api_keys", "user_id", "users", "CASCADE"),
    )
    _index("api_keys", "user_id")
    op.create_table(
        "audit_logs",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(64), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        _now("created_at"),
        _pk("audit_logs"),
        _fk("audit_logs", "user_id", "users", "SET NULL"),
    )
    _index("audit_logs", "user_id", "created_at")
    _index("audit_logs", "entity_type", "entity_id")


def _create_catalogue() -> None:
    op.create_table(
        "tariff_plans",
        _id(),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing_interval", BILLING_INTERVAL, nullable=False),
        sa.Column("trial_days", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _pk("tariff_plans"),
        _uq("tariff_plans", "code"),
        _ck("tariff_plans", "price_nonnegative", "price >= 0"),
        _ck("tariff_plans", "trial_days_nonnegative", "trial_days >= 0"),
        _ck("tariff_plans", "currency_format", CURRENCY_FORMAT),
    )
    op.create_table(
        "features",
        _id(),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        _now("created_at"),
        _pk("features"),
        _uq("features", "code"),
    )
    op.create_table(
        "plan_features",
        _id(),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=False),
        sa.Column("usage_limit", sa.Integer(), nullable=True),
        sa.Column("period", USAGE_PERIOD, server_default=sa.text("'month'"), nullable=False),
        _pk("plan_features"),
        _uq("plan_features", "plan_id", "feature_id"),
        _ck("plan_features", "usage_limit_nonnegative", "usage_limit IS NULL OR usage_limit >= 0"),
        _fk("plan_features", "plan_id", "tariff_plans", "CASCADE"),
        _fk("plan_features", "feature_id", "features", "RESTRICT"),
    )
    _index("plan_features", "feature_id")
    op.create_table(
        "addons",
        _id(),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("billing_interval", BILLING_INTERVAL, nullable=False),
        sa.Column("feature_id", sa.BigInteger(), nullable=True),
        sa.Column("extra_limit", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _pk("addons"),
        _uq("addons", "code"),
        _ck("addons", "price_nonnegative", "price >= 0"),
        _ck("addons", "extra_limit_positive", "extra_limit IS NULL OR extra_limit > 0"),
        _ck("addons", "currency_format", CURRENCY_FORMAT),
        _fk("addons", "feature_id", "features", "SET NULL"),
    )
    _index("addons", "feature_id")


def _create_subscriptions() -> None:
    op.create_table(
        "subscriptions",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("status", SUBSCRIPTION_STATUS, nullable=False),
        _ts("current_period_start", nullable=False),
        _ts("current_period_end", nullable=False),
        _ts("trial_ends_at"),
        sa.Column("cancel_at_period_end", sa.Boolean(), server_default=sa.false(), nullable=False),
        _ts("canceled_at"),
        _ts("ended_at"),
        _now("created_at"),
        _now("updated_at"),
        _pk("subscriptions"),
        _ck("subscriptions", "period_end_after_start", "current_period_end > current_period_start"),
        _fk("subscriptions", "user_id", "users", "CASCADE"),
        _fk("subscriptions", "plan_id", "tariff_plans", "RESTRICT"),
    )
    _index("subscriptions", "user_id")
    _index("subscriptions", "plan_id")
    _index("subscriptions", "status", "current_period_end")
    op.create_index(
        op.f("uq_subscriptions_user_id_live"),
        "subscriptions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('trialing', 'active', 'past_due')"),
    )
    op.create_table(
        "subscription_events",
        _id(),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", SUBSCRIPTION_EVENT_TYPE, nullable=False),
        sa.Column("from_plan_id", sa.BigInteger(), nullable=True),
        sa.Column("to_plan_id", sa.BigInteger(), nullable=True),
        sa.Column("details", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        _now("created_at"),
        _pk("subscription_events"),
        _fk("subscription_events", "subscription_id", "subscriptions", "CASCADE"),
        _fk("subscription_events", "from_plan_id", "tariff_plans", "SET NULL"),
        _fk("subscription_events", "to_plan_id", "tariff_plans", "SET NULL"),
    )
    _index("subscription_events", "subscription_id", "created_at")


def _create_billing() -> None:
    op.create_table(
        "invoices",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("status", INVOICE_STATUS, server_default=sa.text("'draft'"), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subtotal", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("discount_total", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("tax_total", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("total", sa.Numeric(12, 2), server_default=sa.text("0"), nullable=False),
        sa.Column("payment_gateway", sa.String(50), nullable=True),
        sa.Column("provider_invoice_id", sa.String(255), nullable=True),
        _ts("period_start"),
        _ts("period_end"),
        _ts("issued_at"),
        _ts("due_at"),
        _ts("paid_at"),
        _now("created_at"),
        _now("updated_at"),
        _pk("invoices"),
        _uq("invoices", "number"),
        _ck("invoices", "subtotal_nonnegative", "subtotal >= 0"),
        _ck("invoices", "discount_total_nonnegative", "discount_total >= 0"),
        _ck("invoices", "tax_total_nonnegative", "tax_total >= 0"),
        _ck("invoices", "total_nonnegative", "total >= 0"),
        _ck("invoices", "period_end_after_start", "period_end > period_start"),
        _ck("invoices", "currency_format", CURRENCY_FORMAT),
        _fk("invoices", "user_id", "users", "RESTRICT"),
        _fk("invoices", "subscription_id", "subscriptions", "SET NULL"),
    )
    _index("invoices", "subscription_id")
    _index("invoices", "user_id", "created_at")
    op.create_table(
        "invoice_lines",
        _id(),
        sa.Column("invoice_id", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("quantity", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("unit_price", sa.Numeric(12, 2), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=True),
        sa.Column("addon_id", sa.BigInteger(), nullable=True),
        _pk("invoice_lines"),
        _ck("invoice_lines", "quantity_positive", "quantity > 0"),
        _ck("invoice_lines", "unit_price_nonnegative", "unit_price >= 0"),
        _ck("invoice_lines", "amount_nonnegative", "amount >= 0"),
        _ck("invoice_lines", "currency_format", CURRENCY_FORMAT),
        _fk("invoice_lines", "invoice_id", "invoices", "CASCADE"),
        _fk("invoice_lines", "plan_id", "tariff_plans", "SET NULL"),
        _fk("invoice_lines", "addon_id", "addons", "SET NULL"),
    )
    _index("invoice_lines", "invoice_id")
    op.create_table(
        "payment_methods",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_name", sa.String(50), nullable=False),
        sa.Column("provider_method_id", sa.String(255), nullable=False),
        sa.Column("brand", sa.String(30), nullable=True),
        sa.Column("last4", sa.String(4), nullable=True),
        sa.Column("exp_month", sa.SmallInteger(), nullable=True),
        sa.Column("exp_year", sa.SmallInteger(), nullable=True),
        sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _pk("payment_methods"),
        _ck("payment_methods", "exp_month_range", "exp_month BETWEEN 1 AND 12"),
        _fk("payment_methods", "user_id", "users", "CASCADE"),
    )
    _index("payment_methods", "user_id")
    op.create_index(
        op.f("uq_payment_methods_user_id_default"),
        "payment_methods",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        "payments",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", sa.BigInteger(), nullable=True),
        sa.Column("payment_method_id", sa.BigInteger(), nullable=True),
        sa.Column("gateway", sa.String(50), nullable=False),
        sa.Column("provider_payment_id", sa.String(255), nullable=True),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", PAYMENT_STATUS, server_default=sa.text("'pending'"), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        _ts("paid_at"),
        _now("created_at"),
        _now("updated_at"),
        _pk("payments"),
        _uq("payments", "gateway", "provider_payment_id"),
        _ck("payments", "amount_nonnegative", "amount >= 0"),
        _ck("payments", "currency_format", CURRENCY_FORMAT),
        _fk("payments", "user_id", "users", "RESTRICT"),
        _fk("payments", "invoice_id", "invoices", "RESTRICT"),
        _fk("payments", "payment_method_id", "payment_methods", "SET NULL"),
    )
    _index("payments", "user_id")
    _index("payments", "invoice_id")
    op.create_table(
        "coupons",
        _id(),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("discount_type", DISCOUNT_TYPE, nullable=False),
        sa.Column("percent_off", sa.Numeric(5, 2), nullable=True),
        sa.Column("amount_off", sa.Numeric(12, 2), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("max_redemptions", sa.Integer(), nullable=True),
        sa.Column("times_redeemed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _now("valid_from"),
        _ts("valid_until"),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _now("created_at"),
        _pk("coupons"),
        _uq("coupons", "code"),
        _ck(
            "coupons",
            "discount_shape",
            "(discount_type = 'percent' AND percent_off > 0 AND percent_off <= 100 AND amount_off IS NULL)"
            " OR (discount_type = 'fixed' AND amount_off > 0 AND currency IS NOT NULL AND percent_off IS NULL)",
        ),
        _ck("coupons", "max_redemptions_positive", "max_redemptions IS NULL OR max_redemptions > 0"),
        _ck("coupons", "times_redeemed_nonnegative", "times_redeemed >= 0"),
        _ck("coupons", "valid_until_after_from", "valid_until > valid_from"),
        _ck("coupons", "currency_format", CURRENCY_FORMAT),
    )
    op.create_table(
        "coupon_redemptions",
        _id(),
        sa.Column("coupon_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=True),
        sa.Column("invoice_id", sa.BigInteger(), nullable=True),
        _now("redeemed_at"),
        _pk("coupon_redemptions"),
        _uq("coupon_redemptions", "coupon_id", "user_id"),
        _fk("coupon_redemptions", "coupon_id", "coupons", "RESTRICT"),
        _fk("coupon_redemptions", "user_id", "users", "CASCADE"),
        _fk("coupon_redemptions", "subscription_id", "subscriptions", "SET NULL"),
        _fk("coupon_redemptions", "invoice_id", "invoices", "SET NULL"),
    )
    _index("coupon_redemptions", "user_id")
    op.create_table(
        "webhook_events",
        _id(),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("status", WEBHOOK_EVENT_STATUS, server_default=sa.text("'received'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _now("received_at"),
        _ts("processed_at"),
        _pk("webhook_events"),
        _uq("webhook_events", "source", "event_id"),
        _ck("webhook_events", "attempts_nonnegative", "attempts >= 0"),
    )
    op.create_index(
        op.f("ix_webhook_events_received_at_pending"),
        "webhook_events",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('received', 'failed')"),
    )


def _create_tokens() -> None:
    op.create_table(
        "token_bundles",
        _id(),
        sa.Column("code", sa.String(50), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        _pk("token_bundles"),
        _uq("token_bundles", "code"),
        _ck("token_bundles", "tokens_positive", "tokens > 0"),
        _ck("token_bundles", "price_nonnegative", "price >= 0"),
        _ck("token_bundles", "currency_format", CURRENCY_FORMAT),
    )
    op.create_table(
        "token_bundle_purchases",
        _id(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("bundle_id", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.BigInteger(), nullable=True),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _now("created_at"),
        _pk("token_bundle_purchases"),
        _ck("token_bundle_purchases", "tokens_positive", "tokens > 0"),
        _ck("token_bundle_purchases", "amount_nonnegative", "amount >= 0"),
        _ck("token_bundle_purchases", "currency_format", CURRENCY_FORMAT),
        _fk("token_bundle_purchases", "user_id", "users", "RESTRICT"),
        _fk("token_bundle_purchases", "bundle_id", "token_bundles", "RESTRICT"),
        _fk("token_bundle_purchases", "payment_id", "payments", "SET NULL"),
    )
    _index("token_bundle_purchases", "user_id")
    _index("token_bundle_purchases", "bundle_id")


# Children before parents, for the downgrade.
TABLES_IN_DROP_ORDER = (
    "token_bundle_purchases",
    "token_bundles",
    "webhook_events",
    "coupon_redemptions",
    "coupons",
    "payments",
    "payment_methods",
    "invoice_lines",
    "invoices",
    "subscription_events",
    "subscriptions",
    "addons",
    "plan_features",
    "features",
    "tariff_plans",
    "audit_logs",
    "api_keys",
    "email_verification_tokens",
    "user_sessions",
    "users",
)


def upgrade() -> None:
    bind = op.get_bind()
    for enum_type in ENUMS:
        enum_type.create(bind, checkfirst=False)
    _create_auth()
    _create_catalogue()
    _create_subscriptions()
    _create_billing()
    _create_tokens()


def downgrade() -> None:
    for table in TABLES_IN_DROP_ORDER:
        op.drop_table(table)
    bind = op.get_bind()
    for enum_type in reversed(ENUMS):
        enum_type.drop(bind, checkfirst=False)
