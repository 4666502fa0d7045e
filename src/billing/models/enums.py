"""Python enums behind the native PostgreSQL enum types; values are the stored lowercase labels."""

from __future__ import annotations

import enum

import sqlalchemy as sa


class BillingInterval(str, enum.Enum):
    """How often a plan, add-on or subscription is billed (type ``billing_interval``)."""

    MONTH = "month"
    YEAR = "year"


class UsagePeriod(str, enum.Enum):
    """The window a feature limit applies to (type ``usage_period``)."""

    DAY = "day"
    MONTH = "month"


class SubscriptionStatus(str, enum.Enum):
    """Lifecycle state of a subscription (type ``subscription_status``)."""

    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    EXPIRED = "expired"


# The states in which a subscription still counts as the user's current one.
LIVE_SUBSCRIPTION_STATUSES = (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


class SubscriptionEventType(str, enum.Enum):
    """What happened to a subscription (type ``subscription_event_type``)."""

    CREATED = "created"
    RENEWED = "renewed"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    CANCELED = "canceled"
    REACTIVATED = "reactivated"
    TRIAL_ENDED = "trial_ended"
    PAYMENT_FAILED = "payment_failed"


class InvoiceStatus(str, enum.Enum):
    """State of an invoice (type ``invoice_status``)."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class PaymentProvider(str, enum.Enum):
    """The payment service provider that handled money (type ``payment_provider``)."""

    STRIPE = "stripe"
    PAYPAL = "paypal"
    BRAINTREE = "braintree"
    MANUAL = "manual"


class PaymentStatus(str, enum.Enum):
    """State of a payment attempt (type ``payment_status``)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class DiscountType(str, enum.Enum):
    """How a coupon discounts (type ``discount_type``)."""

    PERCENT = "percent"
    FIXED = "fixed"


class WebhookEventStatus(str, enum.Enum):
    """Processing state of an incoming provider webhook (type ``webhook_event_status``)."""

    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    IGNORED = "ignored"


class TokenTransactionKind(str, enum.Enum):
    """Why a user's token balance changed (type ``token_transaction_kind``)."""

    PURCHASE = "purchase"
    GRANT = "grant"
    CONSUME = "consume"
    REFUND = "refund"
    EXPIRE = "expire"
    ADJUSTMENT = "adjustment"


class MailStatus(str, enum.Enum):
    """Delivery state of a mail in the outbox (type ``mail_status``)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def pg_enum(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A native PostgreSQL enum type named ``name`` storing the members' lowercase values."""
    return sa.Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e])


# One column type per PostgreSQL enum type, shared by every column that uses it.
BILLING_INTERVAL = pg_enum(BillingInterval, "billing_interval")
USAGE_PERIOD = pg_enum(UsagePeriod, "usage_period")
SUBSCRIPTION_STATUS = pg_enum(SubscriptionStatus, "subscription_status")
SUBSCRIPTION_EVENT_TYPE = pg_enum(SubscriptionEventType, "subscription_event_type")
INVOICE_STATUS = pg_enum(InvoiceStatus, "invoice_status")
PAYMENT_PROVIDER = pg_enum(PaymentProvider, "payment_provider")
PAYMENT_STATUS = pg_enum(PaymentStatus, "payment_status")
DISCOUNT_TYPE = pg_enum(DiscountType, "discount_type")
WEBHOOK_EVENT_STATUS = pg_enum(WebhookEventStatus, "webhook_event_status")
TOKEN_TRANSACTION_KIND = pg_enum(TokenTransactionKind, "token_transaction_kind")
MAIL_STATUS = pg_enum(MailStatus, "mail_status")
