"""Money: invoices and their lines, payments, payment methods, coupons and provider webhooks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.models.base import CURRENCY_FORMAT, Base, CreatedAtMixin, IdMixin, TimestampMixin, money
from billing.models.enums import (
    DISCOUNT_TYPE,
    INVOICE_STATUS,
    PAYMENT_PROVIDER,
    PAYMENT_STATUS,
    WEBHOOK_EVENT_STATUS,
    DiscountType,
    InvoiceStatus,
    PaymentProvider,
    PaymentStatus,
    WebhookEventStatus,
)


class Invoice(IdMixin, TimestampMixin, Base):
    """A bill sent to a user; kept (RESTRICT) when someone tries to delete the user."""

    __tablename__ = "invoices"
    __table_args__ = (
        sa.UniqueConstraint("number"),
        sa.CheckConstraint("subtotal >= 0", name="subtotal_nonnegative"),
        sa.CheckConstraint("discount_total >= 0", name="discount_total_nonnegative"),
        sa.CheckConstraint("tax_total >= 0", name="tax_total_nonnegative"),
        sa.CheckConstraint("total >= 0", name="total_nonnegative"),
        sa.CheckConstraint("period_end > period_start", name="period_end_after_start"),
        sa.CheckConstraint(CURRENCY_FORMAT, name="currency_format"),
        sa.Index(None, "user_id", "created_at"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[InvoiceStatus] = mapped_column(INVOICE_STATUS, server_default=sa.text("'draft'"))
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal: Mapped[Decimal] = mapped_column(money(), server_default=sa.text("0"))
    discount_total: Mapped[Decimal] = mapped_column(money(), server_default=sa.text("0"))
    tax_total: Mapped[Decimal] = mapped_column(money(), server_default=sa.text("0"))
    total: Mapped[Decimal] = mapped_column(money(), server_default=sa.text("0"))
    provider: Mapped[PaymentProvider | None] = mapped_column(PAYMENT_PROVIDER)
    provider_invoice_id: Mapped[str | None] = mapped_column(sa.String(255))
    period_start: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    period_end: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    issued_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", passive_deletes=True
    )


class InvoiceLine(IdMixin, Base):
    """One line of an invoice: a plan period, an add-on, a token bundle or a manual charge."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="unit_price_nonnegative"),
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint(CURRENCY_FORMAT, name="currency_format"),
    )

    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(sa.String(500))
    quantity: Mapped[int] = mapped_column(server_default=sa.text("1"))
    unit_price: Mapped[Decimal] = mapped_column(money())
    amount: Mapped[Decimal] = mapped_column(money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tariff_plans.id", ondelete="SET NULL"))
    addon_id: Mapped[int | None] = mapped_column(sa.ForeignKey("addons.id", ondelete="SET NULL"))

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class PaymentMethod(IdMixin, TimestampMixin, Base):
    """A card or account stored at a provider, by the provider's token; at most one default per user."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        sa.CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_range"),
        # A provider's token starts with a letter; a card number never does.
        sa.CheckConstraint("provider_method_id ~ '^[A-Za-z]'", name="provider_method_id_is_token"),
        sa.Index(
            "uq_payment_methods_user_id_default",
            "user_id",
            unique=True,
            postgresql_where=sa.text("is_default"),
        ),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[PaymentProvider] = mapped_column(PAYMENT_PROVIDER)
    provider_method_id: Mapped[str] = mapped_column(sa.String(255))
    brand: Mapped[str | None] = mapped_column(sa.String(30))
    last4: Mapped[str | None] = mapped_column(sa.String(4))
    exp_month: Mapped[int | None] = mapped_column(sa.SmallInteger)
    exp_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    is_default: Mapped[bool] = mapped_column(server_default=sa.false())


class Payment(IdMixin, TimestampMixin, Base):
    """A payment attempt at a provider, for an invoice or a token bundle purchase."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_payment_id"),
        # A retried request with the same key finds the first attempt instead of charging again.
        sa.UniqueConstraint("user_id", "idempotency_key"),
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint(CURRENCY_FORMAT, name="currency_format"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id", ondelete="RESTRICT"), index=True)
    payment_method_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment_methods.id", ondelete="SET NULL"))
    provider: Mapped[PaymentProvider] = mapped_column(PAYMENT_PROVIDER)
    provider_payment_id: Mapped[str | None] = mapped_column(sa.String(255))
    amount: Mapped[Decimal] = mapped_column(money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[PaymentStatus] = mapped_column(PAYMENT_STATUS, server_default=sa.text("'pending'"))
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    paid_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))


class IdempotencyRecord(IdMixin, CreatedAtMixin, Base):
    """The answer given to a request that carried an Idempotency-Key: bound to the caller, the route and the request.

    A retry with the same key and the same request gets these bytes back; the same key with another
    route or other parameters is refused.
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "idempotency_key"),
        sa.CheckConstraint("status_code BETWEEN 200 AND 599", name="status_code_range"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    route: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int] = mapped_column(sa.SmallInteger)
    response_body: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Coupon(IdMixin, CreatedAtMixin, Base):
    """A discount code: a percentage, or a fixed amount in one currency."""

    __tablename__ = "coupons"
    __table_args__ = (
        sa.UniqueConstraint("code"),
        sa.CheckConstraint(
            "(discount_type = 'percent' AND percent_off > 0 AND percent_off <= 100 AND amount_off IS NULL)"
            " OR (discount_type = 'fixed' AND amount_off > 0 AND currency IS NOT NULL AND percent_off IS NULL)",
            name="discount_shape",
        ),
        sa.CheckConstraint("max_redemptions IS NULL OR max_redemptions > 0", name="max_redemptions_positive"),
        sa.CheckConstraint("times_redeemed >= 0", name="times_redeemed_nonnegative"),
        sa.CheckConstraint("valid_until > valid_from", name="valid_until_after_from"),
        sa.CheckConstraint(CURRENCY_FORMAT, name="currency_format"),
    )

    code: Mapped[str] = mapped_column(sa.String(50))
    discount_type: Mapped[DiscountType] = mapped_column(DISCOUNT_TYPE)
    percent_off: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    amount_off: Mapped[Decimal | None] = mapped_column(money())
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    max_redemptions: Mapped[int | None] = mapped_column()
    times_redeemed: Mapped[int] = mapped_column(server_default=sa.text("0"))
    valid_from: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    valid_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(server_default=sa.true())


class CouponRedemption(IdMixin, Base):
    """A user's use of a coupon; each user may redeem a coupon once."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (sa.UniqueConstraint("coupon_id", "user_id"),)

    coupon_id: Mapped[int] = mapped_column(sa.ForeignKey("coupons.id", ondelete="RESTRICT"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="SET NULL"))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("invoices.id", ondelete="SET NULL"))
    redeemed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())


class WebhookEvent(IdMixin, Base):
    """A webhook received from a provider; the provider's event id makes delivery idempotent."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        sa.UniqueConstraint("provider", "event_id"),
        sa.CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        sa.Index(
            "ix_webhook_events_received_at_pending",
            "received_at",
            postgresql_where=sa.text("status IN ('received', 'failed')"),
        ),
    )

    provider: Mapped[PaymentProvider] = mapped_column(PAYMENT_PROVIDER)
    event_id: Mapped[str] = mapped_column(sa.String(255))
    event_type: Mapped[str] = mapped_column(sa.String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(postgresql.JSONB)
    status: Mapped[WebhookEventStatus] = mapped_column(WEBHOOK_EVENT_STATUS, server_default=sa.text("'received'"))
    attempts: Mapped[int] = mapped_column(server_default=sa.text("0"))
    error: Mapped[str | None] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
