"""billing.api.schemas: response bodies built from ORM objects that never saw a session, and text checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from billing.api.schemas import PlanOut, SubscribeIn, SubscriptionOut, UsageOut, unstorable
from billing.models import (
    Addon,
    BillingInterval,
    Feature,
    PlanFeature,
    Subscription,
    SubscriptionAddon,
    SubscriptionStatus,
    TariffPlan,
    UsagePeriod,
)
from billing.services.usage import UsageResult

START = datetime(2026, 3, 1, tzinfo=timezone.utc)
END = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _plan() -> TariffPlan:
    """A plan whose features are listed out of code order, one of them unlimited."""
    features = [("projects", "Projects", 50, UsagePeriod.MONTH), ("api_calls", "API calls", None, UsagePeriod.DAY)]
    return TariffPlan(
        code="pro",
        name="Pro",
        description=None,
        price=Decimal("29.00"),
        currency="USD",
        billing_interval=BillingInterval.MONTH,
        trial_days=14,
        plan_features=[
            PlanFeature(feature=Feature(code=code, name=name), usage_limit=limit, period=period)
            for code, name, limit, period in features
        ],
    )


def _subscription() -> Subscription:
    return Subscription(
        id=7,
        plan=_plan(),
        status=SubscriptionStatus.TRIALING,
        current_period_start=START,
        current_period_end=END,
        trial_ends_at=START + timedelta(days=14),
        cancel_at_period_end=False,
        canceled_at=None,
        ended_at=None,
    )


def _addon_row(code: str, quantity: int, ended_at: datetime | None = None) -> SubscriptionAddon:
    return SubscriptionAddon(
        addon=Addon(code=code), quantity=quantity, unit_price=Decimal("10.00"), currency="USD", ended_at=ended_at
    )


def test_a_plan_reads_its_features_through_the_relationships_in_code_order() -> None:
    body = PlanOut.model_validate(_plan())

    assert body.model_dump_json() == (
        '{"code":"pro","name":"Pro","description":null,"price":"29.00","currency":"USD",'
        '"billing_interval":"month","trial_days":14,"features":['
        '{"code":"api_calls","name":"API calls","limit":null,"period":"day"},'
        '{"code":"projects","name":"Projects","limit":50,"period":"month"}]}'
    )


def test_a_plan_feature_without_its_feature_is_refused_not_left_blank() -> None:
    plan = _plan()
    plan.plan_features[0].feature = None

    with pytest.raises(ValidationError, match="code"):
        PlanOut.model_validate(plan)


def test_a_subscription_leaves_its_addons_relationship_alone() -> None:
    subscription = _subscription()
    # The relationship holds every row ever attached, ended ones too: never the body's add-ons.
    subscription.addons = [_addon_row("extra_seats", 1, ended_at=START)]

    body = SubscriptionOut.of(subscription)

    assert body.addons is None
    assert body.model_dump_json() == (
        '{"id":7,"plan_code":"pro","status":"trialing","current_period_start":"2026-03-01T00:00:00Z",'
        '"current_period_end":"2026-04-01T00:00:00Z","trial_ends_at":"2026-03-15T00:00:00Z",'
        '"cancel_at_period_end":false,"canceled_at":null,"ended_at":null,"addons":null}'
    )


def test_a_subscription_lists_the_open_addons_it_is_given_in_their_order() -> None:
    rows = [_addon_row("extra_seats", 2), _addon_row("extra_projects", 1)]

    body = SubscriptionOut.of(_subscription(), rows)

    assert body.model_dump_json(include={"plan_code", "addons"}) == (
        '{"plan_code":"pro","addons":['
        '{"code":"extra_seats","quantity":2,"unit_price":"10.00","currency":"USD"},'
        '{"code":"extra_projects","quantity":1,"unit_price":"10.00","currency":"USD"}]}'
    )
    assert SubscriptionOut.of(_subscription(), []).addons == []


def test_usage_reads_remaining_from_the_result() -> None:
    body = UsageOut.model_validate(UsageResult("projects", used=12, limit=10, period_start=START, period_end=END))

    assert (body.feature, body.used, body.limit, body.remaining) == ("projects", 12, 10, 0)
    assert list(body.model_dump()) == ["feature", "used", "limit", "remaining", "period_start", "period_end"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: PlanOut.model_validate(_plan()),
        lambda: SubscriptionOut.of(_subscription()),
        lambda: SubscriptionOut.of(_subscription(), [_addon_row("extra_seats", 2)]),
        lambda: UsageOut.model_validate(UsageResult("projects", 1, None, period_start=START, period_end=END)),
    ],
    ids=["plan", "subscription", "subscription-with-addons", "usage"],
)
def test_a_dumped_body_validates_back_to_itself(build: Callable[[], BaseModel]) -> None:
    body = build()
    # Some FastAPI versions dump a returned model and validate the dict again before sending it.
    again = type(body).model_validate(body.model_dump(by_alias=True))

    assert again == body
    assert again.model_dump_json() == body.model_dump_json()


@pytest.mark.parametrize(("text", "bad"), [("plain", False), ("ünïcode ✓", False), ("a\x00b", True), ("\ud800", True)])
def test_unstorable_text(text: str, bad: bool) -> None:
    assert unstorable(text) is bad


def test_request_bodies_refuse_unstorable_text_wherever_it_is_nested() -> None:
    assert SubscribeIn.model_validate({"plan_code": "pro", "addon_codes": ["extra_seats"]}).addon_codes == [
        "extra_seats"
    ]
    with pytest.raises(ValidationError, match="NUL bytes"):
        SubscribeIn.model_validate({"plan_code": "pro", "addon_codes": ["extra\x00seats"]})
