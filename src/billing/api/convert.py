"""Turning service results into response bodies."""

from __future__ import annotations

from collections.abc import Sequence

from billing.api import schemas
from billing.models import Subscription, SubscriptionAddon, TariffPlan
from billing.services.usage import UsageResult


def plan_out(plan: TariffPlan) -> schemas.PlanOut:
    """A plan with its features, in feature-code order."""
    features = sorted(
        (
            schemas.PlanFeatureOut(code=pf.feature.code, name=pf.feature.name, limit=pf.usage_limit, period=pf.period)
            for pf in plan.plan_features
        ),
        key=lambda f: f.code,
    )
    return schemas.PlanOut(
        code=plan.code,
        name=plan.name,
        description=plan.description,
        price=plan.price,
        currency=plan.currency,
        billing_interval=plan.billing_interval,
        trial_days=plan.trial_days,
        features=features,
    )


def subscription_out(
    subscription: Subscription, addons: Sequence[SubscriptionAddon] | None = None
) -> schemas.SubscriptionOut:
    """A subscription; ``addons`` is left out (None) unless the caller loaded them."""
    return schemas.SubscriptionOut(
        id=subscription.id,
        plan_code=subscription.plan.code,
        status=subscription.status,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        trial_ends_at=subscription.trial_ends_at,
        cancel_at_period_end=subscription.cancel_at_period_end,
        canceled_at=subscription.canceled_at,
        ended_at=subscription.ended_at,
        addons=None
        if addons is None
        else [
            schemas.SubscriptionAddonOut(
                code=row.addon.code, quantity=row.quantity, unit_price=row.unit_price, currency=row.currency
            )
            for row in addons
        ],
    )


def usage_out(result: UsageResult) -> schemas.UsageOut:
    """A usage counter."""
    return schemas.UsageOut(
        feature=result.feature,
        used=result.used,
        limit=result.limit,
        remaining=result.remaining,
        period_start=result.period_start,
        period_end=result.period_end,
    )
