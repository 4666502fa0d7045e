"""No card numbers, ever: payment methods only by provider token; a PAN anywhere in a request is refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_support import PASSWORD, unique_email, user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError

from billing.models import PaymentMethod, User

PANS = ["4242 4242 4242 4242", "4242-4242-4242-4242", "4242424242424242", "378282246310005", "5555555555554444"]


@pytest.mark.parametrize("pan", PANS)
def test_a_card_number_is_never_accepted_as_a_payment_method(app: FastAPI, client: TestClient, pan: str) -> None:
    user_id, headers = user(client, "pan")
    for field in ("token", "provider_method_id"):
        response = client.post("/payment-methods", json={"provider": "stripe", field: pan}, headers=headers)
        assert response.status_code == 422
        assert pan not in response.text and pan.replace(" ", "") not in response.text
    assert client.get("/payment-methods", headers=headers).json() == []
    with app.state.sessionmaker() as session:
        assert session.scalars(sa.select(PaymentMethod).where(PaymentMethod.user_id == user_id)).all() == []


def test_a_card_number_anywhere_in_a_request_is_refused_before_anything_runs(app: FastAPI, client: TestClient) -> None:
    email = unique_email("pan-name")
    body = {"email": email, "password": PASSWORD, "full_name": "card 4242 4242 4242 4242"}
    assert client.post("/auth/register", json=body).status_code == 422
    _, headers = user(client, "pan-elsewhere")
    assert client.get("/plans?ref=4242424242424242").status_code == 422
    assert client.get("/invoices/4242424242424242", headers=headers).status_code == 422
    keyed = {**headers, "Idempotency-Key": "5555-5555-5555-4444"}
    assert client.post("/token-bundles/tokens_1k/purchase", headers=keyed).status_code == 422
    with app.state.sessionmaker() as session:
        assert session.scalar(sa.select(sa.func.count()).where(User.email == email)) == 0


def test_the_provider_tells_the_card_details_and_the_database_refuses_a_number(
    app: FastAPI, client: TestClient
) -> None:
    user_id, headers = user(client, "tokenised")
    body = {"provider": "stripe", "token": "pm_card_visa", "last4": "1111", "brand": "amex"}
    stored = client.post("/payment-methods", json=body, headers=headers).json()
    assert (stored["provider_method_id"], stored["brand"], stored["last4"]) == ("pm_card_visa", "visa", "4242")
    # Even past the API, the table holds tokens only.
    with app.state.sessionmaker() as session, pytest.raises(IntegrityError, match="provider_method_id_is_token"):
        session.add(PaymentMethod(user_id=user_id, provider="stripe", provider_method_id="4242424242424242"))
        session.flush()
