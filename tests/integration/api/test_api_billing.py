"""Auth, catalogue, subscriptions with add-ons, invoices and payment methods over HTTP."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from api_support import PASSWORD, login, register, user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import SubscriptionAddon, User


def test_register_login_and_refusals(app: FastAPI, client: TestClient) -> None:
    user_id, email = register(client, "Mixed-Case")
    headers = login(client, email.upper())

    assert client.get("/auth/me", headers=headers).json()["id"] == user_id
    # A taken email gets the reply a new one gets (no account enumeration), and its account is untouched.
    fresh = client.post("/auth/register", json={"email": "fresh-" + email, "password": PASSWORD})
    taken = client.post("/auth/register", json={"email": email, "password": "another-Password-2"})
    assert (taken.status_code, taken.json()) == (fresh.status_code, fresh.json()) == (202, fresh.json())
    assert client.post("/auth/login", json={"email": email, "password": "another-Password-2"}).status_code == 401
    assert app.state.mailer.wait_for(email, "You already have an account").to == email.lower()
    assert client.post("/auth/register", json={"email": "x-" + email, "password": "short"}).status_code == 400
    assert client.post("/auth/register", json={"email": "not-an-email", "password": PASSWORD}).status_code == 422
    wrong = client.post("/auth/login", json={"email": email, "password": "wrong-password"})
    unknown = client.post("/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (401, wrong.json())
    with app.state.sessionmaker() as session:
        stored = session.get_one(User, user_id)
        assert stored.password_hash.startswith("$argon2id$")
        assert stored.last_login_at is not None
        stored.is_active = False
        session.commit()
    assert client.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code == 401
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_plans_with_features_and_limits(client: TestClient) -> None:
    plans = client.get("/plans").json()
    free = client.get("/plans/free").json()

    assert [p["code"] for p in plans] == ["free", "pro", "business"]
    assert (free["price"], free["currency"], free["billing_interval"]) == ("0.00", "USD", "month")
    assert {f["code"]: (f["limit"], f["period"]) for f in free["features"]} == {
        "api_calls": (100, "day"),
        "projects": (3, "month"),
        "team_members": (1, "month"),
    }
    assert client.get("/plans/nope").status_code == 404
    assert {a["code"] for a in client.get("/addons").json()} == {"extra_seats", "extra_api_calls", "extra_projects"}


def test_checkout_with_addons_invoices_plan_and_addons(app: FastAPI, client: TestClient) -> None:
    _, headers = user(client, "checkout")
    order = {"plan_code": "pro", "addon_codes": ["extra_seats", "extra_projects", "extra_seats"]}

    body = client.post("/subscriptions", json=order, headers=headers).json()

    sub, invoice = body["subscription"], body["invoice"]
    assert (sub["plan_code"], sub["status"]) == ("pro", "trialing")  # the seeded pro plan has a 14-day trial
    assert sorted((a["code"], a["quantity"], a["unit_price"]) for a in sub["addons"]) == [
        ("extra_projects", 1, "8.00"),
        ("extra_seats", 2, "10.00"),
    ]
    assert [(line["description"], line["quantity"], line["amount"]) for line in invoice["lines"]] == [
        ("Pro plan (monthly)", 1, "29.00"),
        ("Add-on: 5 extra team members", 2, "20.00"),
        ("Add-on: 25 extra projects", 1, "8.00"),
    ]
    assert Decimal(invoice["subtotal"]) == Decimal(invoice["total"]) == Decimal("57.00")
    assert (invoice["status"], invoice["currency"], invoice["period_start"]) == (
        "open",
        "USD",
        sub["current_period_start"],
    )
    assert client.get("/invoices", headers=headers).json() == [invoice]
    assert client.post(f"/subscriptions/{sub['id']}/invoice", headers=headers).status_code == 409

    canceled = client.post(f"/subscriptions/{sub['id']}/cancel", json={"at_period_end": False}, headers=headers)
    assert canceled.json()["status"] == "canceled"
    with app.state.sessionmaker() as session:
        ended = session.scalars(
            sa.select(SubscriptionAddon.ended_at).where(SubscriptionAddon.subscription_id == sub["id"])
        )
        assert all(when is not None for when in ended)
    assert client.get("/subscriptions/current", headers=headers).json() is None
    again = client.post("/subscriptions", json={"plan_code": "free"}, headers=headers)
    assert again.status_code == 201
    assert (again.json()["invoice"]["total"], again.json()["invoice"]["status"]) == ("0.00", "paid")


def test_invoice_endpoint_and_subscription_rules(client: TestClient) -> None:
    _, headers = user(client, "renew")
    body = client.post("/subscriptions", json={"plan_code": "business", "issue_invoice": False}, headers=headers)
    sub_id = body.json()["subscription"]["id"]
    assert body.json()["invoice"] is None

    invoice = client.post(f"/subscriptions/{sub_id}/invoice", headers=headers)

    assert invoice.status_code == 201
    assert (invoice.json()["total"], len(invoice.json()["lines"])) == ("99.00", 1)
    assert client.post("/subscriptions", json={"plan_code": "pro"}, headers=headers).status_code == 409
    assert client.post(f"/subscriptions/{sub_id}/cancel", headers=headers).json()["cancel_at_period_end"] is True
    assert client.post(f"/subscriptions/{sub_id}/cancel", headers=headers).status_code == 409
    _, other = user(client, "other")
    assert client.get(f"/invoices/{invoice.json()['id']}", headers=other).status_code == 404
    assert client.post(f"/subscriptions/{sub_id}/cancel", headers=other).status_code == 404
    assert client.post("/subscriptions", json={"plan_code": "nope"}, headers=other).status_code == 404
    assert client.post("/subscriptions", json={"plan_code": "pro"}).status_code == 401


def test_payment_methods_keep_one_default(client: TestClient) -> None:
    _, headers = user(client, "pm")
    # The client's own brand and last4 are ignored: the provider's details of the token are stored.
    card = {"provider": "stripe", "token": "pm_card_mastercard", "brand": "amex", "last4": "0000"}

    first = client.post("/payment-methods", json=card, headers=headers).json()
    assert (first["provider_method_id"], first["brand"], first["last4"]) == ("pm_card_mastercard", "mastercard", "4444")
    assert (first["exp_month"], first["exp_year"]) == (12, 2034)
    second = client.post("/payment-methods", json={**card, "provider": "braintree"}, headers=headers).json()
    third = client.post("/payment-methods", json={**card, "provider": "manual", "make_default": True}, headers=headers)

    assert (first["is_default"], second["is_default"], third.json()["is_default"]) == (True, False, True)
    listed = client.get("/payment-methods", headers=headers).json()
    assert [(m["provider"], m["is_default"]) for m in listed] == [
        ("manual", True),
        ("stripe", False),
        ("braintree", False),
    ]
    assert client.post("/payment-methods", json={**card, "provider": "venmo"}, headers=headers).status_code == 422
    assert client.post("/payment-methods", json={**card, "token": "pm_unknown"}, headers=headers).status_code == 422
    _, other = user(client, "pm-other")
    assert client.get("/payment-methods", headers=other).json() == []
