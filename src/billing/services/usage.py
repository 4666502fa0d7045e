"""Feature usage metering: one counter per user, feature and period, capped by the plan's limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from billing.models import Addon, FeatureUsage, PlanFeature, SubscriptionAddon, TariffPlan, UsagePeriod
from billing.services import catalogue, subscriptions
from billing.services.errors import PermissionDenied, UsageLimitExceeded


@dataclass(frozen=True)
class Allowance:
    """The limit that applies to one user and feature now (``limit`` None = unlimited)."""

    plan_code: str
    feature_id: int
    limit: int | None
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class UsageResult:
    """The counter after an admitted use."""

    feature: str
    used: int
    limit: int | None
    period_start: datetime
    period_end: datetime

    @property
    def remaining(self) -> int | None:
        """Uses left in this period (None = unlimited)."""
        return None if self.limit is None else max(0, self.limit - self.used)


def period_bounds(period: UsagePeriod, now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar day or month containing ``now``."""
    moment = now.astimezone(timezone.utc)
    if period == UsagePeriod.DAY:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def _addon_extra(session: Session, subscription_id: int, feature_id: int) -> int:
    stmt = (
        sa.select(sa.func.coalesce(sa.func.sum(Addon.extra_limit * SubscriptionAddon.quantity), 0))
        .select_from(SubscriptionAddon)
        .join(Addon, Addon.id == SubscriptionAddon.addon_id)
        .where(
            SubscriptionAddon.subscription_id == subscription_id,
            SubscriptionAddon.ended_at.is_(None),
            Addon.feature_id == feature_id,
            Addon.extra_limit.is_not(None),
        )
    )
    return int(session.scalar(stmt) or 0)


def allowance(session: Session, user_id: int, feature_code: str, now: datetime | None = None) -> Allowance:
    """The user's limit for a feature: the live subscription's plan (else the free plan) plus add-ons."""
    moment = now or datetime.now(timezone.utc)
    feature = catalogue.get_feature(session, feature_code)
    subscription = subscriptions.current_subscription(session, user_id)
    if subscription is not None:
        plan: TariffPlan = subscription.plan
    else:
        free = session.scalars(
            sa.select(TariffPlan).where(TariffPlan.code == catalogue.FREE_PLAN_CODE, TariffPlan.is_active.is_(True))
        ).one_or_none()
        if free is None:
            raise PermissionDenied("no subscription and no free plan")
        plan = free
    row = session.scalars(
        sa.select(PlanFeature).where(PlanFeature.plan_id == plan.id, PlanFeature.feature_id == feature.id)
    ).one_or_none()
    if row is None:
        raise PermissionDenied(f"the {plan.code} plan does not include {feature_code}")
    limit = row.usage_limit
    if limit is not None and subscription is not None:
        limit += _addon_extra(session, subscription.id, feature.id)
    start, end = period_bounds(row.period, moment)
    return Allowance(plan.code, feature.id, limit, start, end)


def use_feature(session: Session, user_id: int, feature_code: str, now: datetime | None = None) -> UsageResult:
    """Count one use, atomically refusing it (UsageLimitExceeded) once the period's limit is reached."""
    moment = now or datetime.now(timezone.utc)
    allowed = allowance(session, user_id, feature_code, moment)
    retry_after = max(1, int((allowed.period_end - moment).total_seconds()))
    refused = UsageLimitExceeded(
        f"usage limit of {allowed.limit} per period reached for {feature_code} on the {allowed.plan_code} plan",
        retry_after,
    )
    if allowed.limit is not None and allowed.limit <= 0:
        raise refused
    new_row = insert(FeatureUsage).values(
        user_id=user_id,
        feature_id=allowed.feature_id,
        period_start=allowed.period_start,
        period_end=allowed.period_end,
        used_count=1,
    )
    table = FeatureUsage.__table__
    upsert = new_row.on_conflict_do_update(
        index_elements=[FeatureUsage.user_id, FeatureUsage.feature_id, FeatureUsage.period_start],
        set_={"used_count": table.c.used_count + 1, "updated_at": sa.func.now()},
        where=(table.c.used_count < allowed.limit) if allowed.limit is not None else None,
    ).returning(FeatureUsage.used_count)
    used = session.execute(upsert).scalar_one_or_none()
    if used is None:
        raise refused
    return UsageResult(feature_code, int(used), allowed.limit, allowed.period_start, allowed.period_end)


def usage_of(session: Session, user_id: int, feature_code: str, now: datetime | None = None) -> UsageResult:
    """The user's counter for the feature in the current period, without counting a use."""
    moment = now or datetime.now(timezone.utc)
    allowed = allowance(session, user_id, feature_code, moment)
    used = session.scalar(
        sa.select(FeatureUsage.used_count).where(
            FeatureUsage.user_id == user_id,
            FeatureUsage.feature_id == allowed.feature_id,
            FeatureUsage.period_start == allowed.period_start,
        )
    )
    return UsageResult(feature_code, int(used or 0), allowed.limit, allowed.period_start, allowed.period_end)
