"""Idempotency-Key as payment APIs have it: bound to the caller, the route and the request; replays byte for byte."""

from __future__ import annotations

import sqlalchemy as sa
from api_support import sent_twice, user
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import IdempotencyRecord, Payment

SMALL, LARGE = "/token-bundles/tokens_1k/purchase", "/token-bundles/tokens_100k/purchase"


def _card(client: TestClient, headers: dict[str, str], token: str = "pm_card_visa") -> int:
    response = client.post("/payment-methods", json={"provider": "stripe", "token": token}, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _payments(app: FastAPI, user_id: int) -> int:
    with app.state.sessionmaker() as session:
        return int(session.scalar(sa.select(sa.func.count()).where(Payment.user_id == user_id)) or 0)


def test_a_key_reused_for_another_bundle_is_refused_and_moves_nothing(app: FastAPI, client: TestClient) -> None:
    user_id, headers = user(client, "reuser")
    _card(client, headers)
    keyed = {**headers, "Idempotency-Key": "order-77"}
    first = client.post(SMALL, headers=keyed)
    assert first.status_code == 201
    assert (first.json()["bundle_code"], first.json()["tokens"], first.json()["amount"]) == ("tokens_1k", 1000, "5.00")

    other = client.post(LARGE, headers=keyed)
    assert other.status_code == 422
    assert "different parameters" in other.json()["detail"]
    assert client.get("/tokens", headers=headers).json()["balance"] == 1000
    assert _payments(app, user_id) == 1


def test_a_true_replay_returns_the_first_answer_byte_for_byte(app: FastAPI, client: TestClient) -> None:
    user_id, headers = user(client, "replayer")
    method = _card(client, headers)
    first, again = sent_twice(client, SMALL, headers, "order-78", {"payment_method_id": method})
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert client.get("/tokens", headers=headers).json()["balance"] == 1000
    # The same key with another payment method is another request.
    second_method = _card(client, headers, "pm_card_mastercard")
    moved = client.post(
        SMALL, json={"payment_method_id": second_method}, headers={**headers, "Idempotency-Key": "order-78"}
    )
    assert moved.status_code == 422
    with app.state.sessionmaker() as session:
        record = session.scalars(sa.select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id)).one()
    assert (record.route, record.status_code, record.response_body) == (
        "POST /token-bundles/{code}/purchase",
        201,
        first.content,
    )
    assert len(record.request_hash) == 64


def test_a_declined_purchase_is_replayed_as_declined_without_a_second_charge(app: FastAPI, client: TestClient) -> None:
    user_id, headers = user(client, "declined-replay")
    _card(client, headers, "pm_card_chargeDeclined")
    first, again = sent_twice(client, SMALL, headers, "order-79")
    assert first.status_code == again.status_code == 402
    assert first.content == again.content
    assert _payments(app, user_id) == 1


def test_keys_belong_to_their_caller(client: TestClient) -> None:
    _, alice = user(client, "alice-key")
    _, bob = user(client, "bob-key")
    for headers in (alice, bob):
        _card(client, headers)
    first = client.post(SMALL, headers={**alice, "Idempotency-Key": "shared-key"})
    second = client.post(LARGE, headers={**bob, "Idempotency-Key": "shared-key"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["bundle_code"] == "tokens_100k" and second.json()["purchase_id"] != first.json()["purchase_id"]
