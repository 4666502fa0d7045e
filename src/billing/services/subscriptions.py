"""Subscriptions: checkout (plan, optional add-ons, first invoice), cancellation and lookup."""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.models import (
    BillingInterval,
    Invoice,
    InvoiceStatus,
    Subscription,
    SubscriptionAddon,
    SubscriptionEvent,
    SubscriptionEventType,
    SubscriptionStatus,
    TariffPlan,
)
from billing.models.enums import LIVE_SUBSCRIPTION_STATUSES
from billing.services import catalogue, invoices
from billing.services.errors import Conflict, InvalidRequest, NotFound
from billing.services.rows import add_unique


@dataclass(frozen=True)
class Checkout:
    """The result of a checkout: the subscription, its add-on rows and the first invoice (if issued)."""

    subscription: Subscription
    addons: list[SubscriptionAddon]
    invoice: Invoice | None


def add_interval(start: datetime, interval: BillingInterval) -> datetime:
    """``start`` plus one month or one year, clamping the day (Jan 31 + 1 month = Feb 28/29)."""
    months = 1 if interval == BillingInterval.MONTH else 12
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def current_subscription(session: Session, user_id: int) -> Subscription | None:
    """The user's live (trialing, active or past due) subscription, if any."""
    stmt = sa.select(Subscription).where(
        Subscription.user_id == user_id, Subscription.status.in_(LIVE_SUBSCRIPTION_STATUSES)
    )
    return session.scalars(stmt).one_or_none()


def get_subscription(session: Session, user_id: int, subscription_id: int, lock: bool = False) -> Subscription:
    """One of the user's subscriptions, or NotFound (also for someone else's)."""
    stmt = sa.select(Subscription).where(Subscription.id == subscription_id, Subscription.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    subscription = session.scalars(stmt).one_or_none()
    if subscription is None:
        raise NotFound(f"no subscription {subscription_id}")
    return subscription


def open_addons(session: Session, subscription_id: int) -> list[SubscriptionAddon]:
    """The add-ons attached to the subscription and not ended."""
    stmt = (
        sa.select(SubscriptionAddon)
        .where(SubscriptionAddon.subscription_id == subscription_id, SubscriptionAddon.ended_at.is_(None))
        .order_by(SubscriptionAddon.id)
    )
    return list(session.scalars(stmt))


def _items(plan: TariffPlan, addons: Sequence[SubscriptionAddon]) -> list[invoices.InvoiceItem]:
    items = [
        invoices.InvoiceItem(
            description=f"{plan.name} plan ({plan.billing_interval.value}ly)",
            unit_price=plan.price,
            currency=plan.currency,
            plan_id=plan.id,
        )
    ]
    items += [
        invoices.InvoiceItem(
            description=f"Add-on: {row.addon.name}",
            unit_price=row.unit_price,
            currency=row.currency,
            quantity=row.quantity,
            addon_id=row.addon_id,
        )
        for row in addons
    ]
    return items


def subscribe(
    session: Session,
    user_id: int,
    plan_code: str,
    addon_codes: Sequence[str] = (),
    *,
    issue_invoice: bool = True,
    now: datetime | None = None,
) -> Checkout:
    """Start a subscription to a plan with optional add-ons (a repeated code adds quantity) and invoice it."""
    started = now or datetime.now(timezone.utc)
    plan = catalogue.get_plan(session, plan_code)
    quantities = Counter(addon_codes)
    chosen = catalogue.get_addons(session, list(quantities))
    for addon in chosen:
        if addon.currency != plan.currency:
            raise InvalidRequest(f"add-on {addon.code!r} is sold in {addon.currency}, the plan in {plan.currency}")
    if current_subscription(session, user_id) is not None:
        raise Conflict("the user already has a live subscription; cancel it first")
    trial_end = started + timedelta(days=plan.trial_days) if plan.trial_days else None
    subscription = Subscription(
        user_id=user_id,
        plan_id=plan.id,
        status=SubscriptionStatus.TRIALING if trial_end else SubscriptionStatus.ACTIVE,
        current_period_start=started,
        current_period_end=add_interval(started, plan.billing_interval),
        trial_ends_at=trial_end,
    )
    add_unique(session, subscription, "the user already has a live subscription; cancel it first")
    rows = [
        SubscriptionAddon(
            subscription_id=subscription.id,
            addon=addon,
            addon_id=addon.id,
            quantity=quantities[addon.code],
            unit_price=addon.price,
            currency=addon.currency,
            started_at=started,
        )
        for addon in chosen
    ]
    session.add_all(rows)
    details = {"addons": {addon.code: quantities[addon.code] for addon in chosen}}
    session.add(
        SubscriptionEvent(
            subscription_id=subscription.id,
            event_type=SubscriptionEventType.CREATED,
            to_plan_id=plan.id,
            details=details,
        )
    )
    session.flush()
    invoice = None
    if issue_invoice:
        period = (subscription.current_period_start, subscription.current_period_end)
        invoice = invoices.create_invoice(
            session, user_id, _items(plan, rows), subscription_id=subscription.id, period=period, now=started
        )
    return Checkout(subscription=subscription, addons=rows, invoice=invoice)


def invoice_current_period(session: Session, user_id: int, subscription_id: int) -> Invoice:
    """Invoice the subscription's current period (plan and open add-ons); Conflict if already invoiced."""
    subscription = get_subscription(session, user_id, subscription_id, lock=True)
    if subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
        raise Conflict(f"subscription {subscription_id} is {subscription.status.value}")
    if invoices.invoice_exists_for_period(session, subscription.id, subscription.current_period_start):
        raise Conflict("the current period is already invoiced")
    period = (subscription.current_period_start, subscription.current_period_end)
    items = _items(subscription.plan, open_addons(session, subscription.id))
    return invoices.create_invoice(session, user_id, items, subscription_id=subscription.id, period=period)


def cancel(
    session: Session, user_id: int, subscription_id: int, at_period_end: bool = True, now: datetime | None = None
) -> Subscription:
    """Cancel at the period end (default) or at once (which ends the add-ons); in a trial, void its unpaid invoices."""
    when = now or datetime.now(timezone.utc)
    subscription = get_subscription(session, user_id, subscription_id, lock=True)
    if subscription.status not in LIVE_SUBSCRIPTION_STATUSES:
        raise Conflict(f"subscription {subscription_id} is already {subscription.status.value}")
    if at_period_end and subscription.cancel_at_period_end:
        raise Conflict(f"subscription {subscription_id} is already set to cancel at the end of the period")
    subscription.canceled_at = when
    in_trial = subscription.status == SubscriptionStatus.TRIALING
    if in_trial and subscription.trial_ends_at is not None and subscription.trial_ends_at > when:
        # Nothing is owed for a trial that never turned into a paid period: its unpaid invoices are void.
        session.execute(
            sa.update(Invoice)
            .where(
                Invoice.subscription_id == subscription.id,
                Invoice.status.in_((InvoiceStatus.DRAFT, InvoiceStatus.OPEN)),
            )
            .values(status=InvoiceStatus.VOID)
        )
    if at_period_end:
        subscription.cancel_at_period_end = True
    else:
        subscription.status = SubscriptionStatus.CANCELED
        subscription.ended_at = when
        session.execute(
            sa.update(SubscriptionAddon)
            .where(SubscriptionAddon.subscription_id == subscription.id, SubscriptionAddon.ended_at.is_(None))
            .values(ended_at=sa.func.greatest(sa.func.now(), SubscriptionAddon.started_at + timedelta(microseconds=1)))
        )
    session.add(
        SubscriptionEvent(
            subscription_id=subscription.id,
            event_type=SubscriptionEventType.CANCELED,
            from_plan_id=subscription.plan_id,
            details={"at_period_end": at_period_end},
        )
    )
    session.flush()
    return subscription
