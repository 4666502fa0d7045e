"""Helpers for the API tests: users over HTTP, roles through the service layer, concurrent calls."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import Feature, PlanFeature, TariffPlan, UsagePeriod
from billing.services import rbac

PASSWORD = "test-Password-1"
T = TypeVar("T")


def unique_email(label: str) -> str:
    """An email no other test uses."""
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def register(client: TestClient, label: str, password: str = PASSWORD) -> tuple[int, str]:
    """Register a user over HTTP; return (id, email)."""
    email = unique_email(label)
    response = client.post("/auth/register", json={"email": email, "password": password})
    assert response.status_code == 202, response.text
    me = client.get("/auth/me", headers=login(client, email, password))
    assert me.status_code == 200, me.text
    return int(me.json()["id"]), email


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in over HTTP; return the Authorization header."""
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user(client: TestClient, label: str) -> tuple[int, dict[str, str]]:
    """Register and log in; return (id, headers)."""
    user_id, email = register(client, label)
    return user_id, login(client, email)


def grant(app: FastAPI, user_id: int, role: str) -> None:
    """Grant a seeded role directly (the tests do not know the admin's password)."""
    with app.state.sessionmaker() as session:
        rbac.grant_role(session, user_id, role)
        session.commit()


def run_together(count: int, work: Callable[[int], T], prepare: Callable[[int], None] | None = None) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released together by a Barrier; return the results in order."""
    barrier = threading.Barrier(count, timeout=60)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            if prepare is not None:
                prepare(i)
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    assert all(not t.is_alive() for t in threads), "a worker thread hung"
    return results


def add_feature_to_plan(app: FastAPI, plan_code: str, limit: int | None, period: UsagePeriod) -> str:
    """A new feature, included in the plan with ``limit`` per ``period``; returns its code."""
    code = f"metered_{uuid.uuid4().hex[:8]}"
    with app.state.sessionmaker() as session:
        feature = Feature(code=code, name=code)
        session.add(feature)
        session.flush()
        plan_id = session.scalar(sa.select(TariffPlan.id).where(TariffPlan.code == plan_code))
        session.add(PlanFeature(plan_id=plan_id, feature_id=feature.id, usage_limit=limit, period=period))
        session.commit()
    return code
