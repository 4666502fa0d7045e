"""Subscriptions of users to plans, their event history and the add-ons attached to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.models.base import CURRENCY_FORMAT, Base, CreatedAtMixin, IdMixin, TimestampMixin, money
from billing.models.enums import (
    SUBSCRIPTION_EVENT_TYPE,
    SUBSCRIPTION_STATUS,
    SubscriptionEventType,
    SubscriptionStatus,
)

if TYPE_CHECKING:
    from billing.models.catalogue import Addon, TariffPlan

# At most one subscription per user may be in one of these states (partial unique index).
LIVE_STATUSES_SQL = "status IN ('trialing', 'active', 'past_due')"


class Subscription(IdMixin, TimestampMixin, Base):
    """A user's subscription to a tariff plan for the current billing period."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.CheckConstraint("current_period_end > current_period_start", name="period_end_after_start"),
        sa.Index(
            "uq_subscriptions_user_id_live",
            "user_id",
            unique=True,
            postgresql_where=sa.text(LIVE_STATUSES_SQL),
        ),
        sa.Index(None, "status", "current_period_end"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("tariff_plans.id", ondelete="RESTRICT"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(SUBSCRIPTION_STATUS)
    current_period_start: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    current_period_end: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    trial_ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(server_default=sa.false())
    canceled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    plan: Mapped[TariffPlan] = relationship()
    events: Mapped[list[SubscriptionEvent]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )
    addons: Mapped[list[SubscriptionAddon]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )


class SubscriptionEvent(IdMixin, CreatedAtMixin, Base):
    """One entry in a subscription's history (created, upgraded, canceled ...)."""

    __tablename__ = "subscription_events"
    __table_args__ = (sa.Index(None, "subscription_id", "created_at"),)

    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="CASCADE"))
    event_type: Mapped[SubscriptionEventType] = mapped_column(SUBSCRIPTION_EVENT_TYPE)
    from_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tariff_plans.id", ondelete="SET NULL"))
    to_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tariff_plans.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(postgresql.JSONB, server_default=sa.text("'{}'::jsonb"))

    subscription: Mapped[Subscription] = relationship(back_populates="events")


class SubscriptionAddon(IdMixin, CreatedAtMixin, Base):
    """An add-on attached to a subscription; at most one open (not ended) row per add-on."""

    __tablename__ = "subscription_addons"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="unit_price_nonnegative"),
        sa.CheckConstraint(CURRENCY_FORMAT, name="currency_format"),
        sa.CheckConstraint("ended_at IS NULL OR ended_at > started_at", name="ended_after_started"),
        sa.Index(
            "uq_subscription_addons_subscription_id_addon_id_open",
            "subscription_id",
            "addon_id",
            unique=True,
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
    )

    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    addon_id: Mapped[int] = mapped_column(sa.ForeignKey("addons.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(server_default=sa.text("1"))
    unit_price: Mapped[Decimal] = mapped_column(money())
    currency: Mapped[str] = mapped_column(sa.String(3))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    subscription: Mapped[Subscription] = relationship(back_populates="addons")
    addon: Mapped[Addon] = relationship()
