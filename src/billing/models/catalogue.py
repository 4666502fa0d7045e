"""The product catalogue: tariff plans, metered features, per-plan limits and add-ons."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.models.base import Base, CreatedAtMixin, IdMixin, TimestampMixin
from billing.models.enums import BILLING_INTERVAL, USAGE_PERIOD, BillingInterval, UsagePeriod
from billing.models.priced import AFTER_ACTIVE, AFTER_PRICE, PricedItemMixin, priced_item_constraints


class TariffPlan(IdMixin, PricedItemMixin, TimestampMixin, Base):
    """A subscription plan (free, pro, business ...) with its price per billing interval."""

    __tablename__ = "tariff_plans"
    __table_args__ = priced_item_constraints(sa.CheckConstraint("trial_days >= 0", name="trial_days_nonnegative"))

    description: Mapped[str | None] = mapped_column(sa.Text)
    billing_interval: Mapped[BillingInterval] = mapped_column(BILLING_INTERVAL, sort_order=AFTER_PRICE)
    trial_days: Mapped[int] = mapped_column(server_default=sa.text("0"), sort_order=AFTER_PRICE)
    sort_order: Mapped[int] = mapped_column(server_default=sa.text("0"), sort_order=AFTER_ACTIVE)

    plan_features: Mapped[list[PlanFeature]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", passive_deletes=True
    )


class Feature(IdMixin, CreatedAtMixin, Base):
    """Something a plan grants and that may be metered, e.g. ``api_calls``."""

    __tablename__ = "features"
    __table_args__ = (sa.UniqueConstraint("code"),)

    code: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)


class PlanFeature(IdMixin, Base):
    """A feature included in a plan, with its limit per period (a NULL limit means unlimited)."""

    __tablename__ = "plan_features"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "feature_id"),
        sa.CheckConstraint("usage_limit IS NULL OR usage_limit >= 0", name="usage_limit_nonnegative"),
    )

    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("tariff_plans.id", ondelete="CASCADE"))
    feature_id: Mapped[int] = mapped_column(sa.ForeignKey("features.id", ondelete="RESTRICT"), index=True)
    usage_limit: Mapped[int | None] = mapped_column()
    period: Mapped[UsagePeriod] = mapped_column(USAGE_PERIOD, server_default=sa.text("'month'"))

    plan: Mapped[TariffPlan] = relationship(back_populates="plan_features")
    feature: Mapped[Feature] = relationship()


class Addon(IdMixin, PricedItemMixin, TimestampMixin, Base):
    """An extra bought on top of a plan; it may raise the limit of one feature."""

    __tablename__ = "addons"
    __table_args__ = priced_item_constraints(
        sa.CheckConstraint("extra_limit IS NULL OR extra_limit > 0", name="extra_limit_positive")
    )

    description: Mapped[str | None] = mapped_column(sa.Text)
    billing_interval: Mapped[BillingInterval] = mapped_column(BILLING_INTERVAL, sort_order=AFTER_PRICE)
    feature_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("features.id", ondelete="SET NULL"), index=True, sort_order=AFTER_PRICE
    )
    extra_limit: Mapped[int | None] = mapped_column(sort_order=AFTER_PRICE)
