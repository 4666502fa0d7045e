"""Money moves only when paid: purchases charge the caller's own method through the sandbox provider."""

from __future__ import annotations

import sqlalchemy as sa
from api_support import grant, run_together, sent_twice, user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import Payment, PaymentStatus, TokenTransaction
from billing.services import tokens

BUY = "/token-bundles/tokens_1k/purchase"


def _method(client: TestClient, headers: dict[str, str], ref: str) -> int:
    body = {"provider": "stripe", "provider_method_id": ref, "make_default": True}
    response = client.post("/payment-methods", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _payments(app: FastAPI, user_id: int) -> list[tuple[str, str | None]]:
    with app.state.sessionmaker() as session:
        rows = session.execute(
            sa.select(Payment.status, Payment.failure_reason).where(Payment.user_id == user_id).order_by(Payment.id)
        )
        return [(status.value, reason) for status, reason in rows]


def test_no_payment_method_no_tokens(app: FastAPI, client: TestClient) -> None:
    user_id, headers = user(client, "freeloader")
    response = client.post(BUY, headers=headers)
    assert response.status_code == 402
    assert "payment method" in response.json()["detail"]
    assert client.get("/tokens", headers=headers).json()["balance"] == 0
    assert _payments(app, user_id) == []


def test_declines_and_authentication_leave_the_balance_alone(app: FastAPI, client: TestClient) -> None:
    user_id, headers = user(client, "declined")
    for ref in ("pm_card_chargeDeclined", "pm_card_insufficientFunds", "pm_card_authenticationRequired"):
        _method(client, headers, ref)
        assert client.post(BUY, headers=headers).status_code == 402
    made_up = {"provider": "stripe", "token": "pm_made_up", "make_default": True}
    assert client.post("/payment-methods", json=made_up, headers=headers).status_code == 422
    assert client.get("/tokens", headers=headers).json()["balance"] == 0
    assert _payments(app, user_id) == [
        ("failed", "card_declined"),
        ("failed", "insufficient_funds"),
        ("pending", "authentication_required"),
    ]
    with app.state.sessionmaker() as session:
        assert tokens.ledger_sum(session, user_id) == 0


def test_a_succeeded_charge_credits_once_per_idempotency_key(app: FastAPI, client: TestClient) -> None:
    user_id, headers = user(client, "payer")
    _method(client, headers, "pm_card_visa")
    first, again = sent_twice(client, BUY, headers, "order-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert client.get("/tokens", headers=headers).json()["balance"] == 1000
    other_key = client.post(BUY, headers={**headers, "Idempotency-Key": "order-2"})
    assert other_key.json()["balance"] == 2000
    assert _payments(app, user_id) == [("succeeded", None), ("succeeded", None)]


def test_concurrent_requests_with_one_key_charge_once(app: FastAPI, client: TestClient) -> None:
    user_id, headers = user(client, "racer")
    _method(client, headers, "pm_card_visa")
    keyed = {**headers, "Idempotency-Key": "same-key"}
    codes = run_together(10, lambda _: client.post(BUY, headers=keyed).status_code)
    assert set(codes) <= {201, 409} and 201 in codes
    with app.state.sessionmaker() as session:
        paid = session.scalar(
            sa.select(sa.func.count()).where(Payment.user_id == user_id, Payment.status == PaymentStatus.SUCCEEDED)
        )
        assert paid == 1
        assert tokens.balance_of(session, user_id) == 1000 == tokens.ledger_sum(session, user_id)


def test_someone_elses_method_is_not_yours_to_charge(client: TestClient) -> None:
    _, owner = user(client, "owner")
    method_id = _method(client, owner, "pm_card_visa")
    _, thief = user(client, "thief")
    response = client.post(BUY, json={"payment_method_id": method_id}, headers=thief)
    assert response.status_code == 404
    assert client.get("/tokens", headers=thief).json()["balance"] == 0


def test_admin_credits_are_never_labelled_purchases(app: FastAPI, client: TestClient) -> None:
    manager_id, manager = user(client, "manager")
    grant(app, manager_id, "billing_manager")
    target, _ = user(client, "gifted")
    url = f"/admin/users/{target}/tokens/credit"
    assert client.post(url, json={"amount": 5, "kind": "purchase"}, headers=manager).status_code == 400
    assert client.post(url, json={"amount": 5}, headers=manager).status_code == 201
    with app.state.sessionmaker() as session:
        kinds = session.scalars(sa.select(TokenTransaction.kind).where(TokenTransaction.user_id == target)).all()
    assert [k.value for k in kinds] == ["grant"]
