"""Feature usage limits: exact under concurrency, taken from the plan (plus add-ons), 429 over the limit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_support import add_feature_to_plan, run_together, user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import FeatureUsage, UsagePeriod


@pytest.mark.parametrize("limit", [1, 10])
def test_limit_of_n_admits_exactly_n_of_2n_concurrent_requests(app: FastAPI, client: TestClient, limit: int) -> None:
    code = add_feature_to_plan(app, "free", limit, UsagePeriod.DAY)
    user_id, headers = user(client, "concurrent-usage")  # no subscription: the free plan applies

    def use(_: int) -> int:
        return TestClient(app).post(f"/features/{code}/use", headers=headers).status_code

    statuses = run_together(2 * limit, use)

    assert statuses.count(200) == limit
    assert statuses.count(429) == limit
    with app.state.sessionmaker() as session:
        counters = session.scalars(sa.select(FeatureUsage.used_count).where(FeatureUsage.user_id == user_id)).all()
    assert counters == [limit]


def test_free_plan_limit_then_429_with_retry_after(client: TestClient) -> None:
    _, headers = user(client, "free-usage")
    used = [client.post("/features/projects/use", headers=headers).json()["used"] for _ in range(3)]
    refused = client.post("/features/projects/use", headers=headers)

    assert used == [1, 2, 3]  # the seeded free plan: 3 projects a month
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 31 * 24 * 3600
    usage = client.get("/features/projects/usage", headers=headers).json()
    assert (usage["used"], usage["limit"], usage["remaining"]) == (3, 3, 0)


def test_limits_follow_the_subscription_and_its_addons(client: TestClient) -> None:
    _, headers = user(client, "pro-usage")
    order = {"plan_code": "pro", "addon_codes": ["extra_projects", "extra_projects"]}
    assert client.post("/subscriptions", json=order, headers=headers).status_code == 201

    projects = client.get("/features/projects/usage", headers=headers).json()
    support = client.post("/features/priority_support/use", headers=headers).json()
    custom = client.post("/features/custom_domain/use", headers=headers)

    assert projects["limit"] == 50 + 2 * 25  # pro plan + two extra_projects add-ons
    assert (support["used"], support["limit"], support["remaining"]) == (1, None, None)  # unlimited
    assert custom.status_code == 403  # business only
    assert client.post("/features/no_such_feature/use", headers=headers).status_code == 404


def test_zero_limit_refuses_the_first_use(app: FastAPI, client: TestClient) -> None:
    code = add_feature_to_plan(app, "free", 0, UsagePeriod.MONTH)
    _, headers = user(client, "zero-usage")
    assert client.post(f"/features/{code}/use", headers=headers).status_code == 429
