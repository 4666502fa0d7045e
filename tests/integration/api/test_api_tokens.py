"""Token balances: the ledger matches the balance, and concurrent debits never overdraw."""

from __future__ import annotations

import sqlalchemy as sa
from api_support import grant, register, run_together, user
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from billing.models import TokenBalance, TokenTransaction, TokenTransactionKind
from billing.services import tokens
from billing.services.errors import InsufficientBalance
from billing.settings import sqlalchemy_url


def test_fifty_concurrent_debits_of_one_against_ten_leave_zero(
    app: FastAPI, client: TestClient, seeded_url: str
) -> None:
    target, _ = register(client, "debit-target")
    with app.state.sessionmaker() as session:
        tokens.credit(session, target, 10)
        session.commit()

    # Every worker holds its own connection, opened before the barrier, so the 50 transactions really overlap.
    engine = sa.create_engine(sqlalchemy_url(seeded_url), poolclass=sa.pool.NullPool)
    factory = sessionmaker(bind=engine)
    sessions: list[Session] = [factory() for _ in range(50)]

    def connect(i: int) -> None:
        sessions[i].connection()

    def debit(i: int) -> str:
        session = sessions[i]
        try:
            tokens.debit(session, target, 1, description=f"worker {i}")
            session.commit()
            return "ok"
        except InsufficientBalance:
            session.rollback()
            return "refused"
        finally:
            session.close()

    try:
        outcomes = run_together(50, debit, prepare=connect)
    finally:
        engine.dispose()

    assert outcomes.count("ok") == 10
    assert outcomes.count("refused") == 40
    with app.state.sessionmaker() as session:
        assert tokens.balance_of(session, target) == 0
        assert tokens.ledger_sum(session, target) == 0
        debits = session.scalars(
            sa.select(TokenTransaction).where(
                TokenTransaction.user_id == target, TokenTransaction.kind == TokenTransactionKind.CONSUME
            )
        ).all()
        # Ten debits, each seeing a different balance: 9, 8, ..., 0.
        assert sorted(t.balance_after for t in debits) == list(range(10))
        assert all(t.amount == -1 for t in debits)


def test_concurrent_http_debits_through_separate_sessions(app: FastAPI, client: TestClient) -> None:
    manager_id, manager = user(client, "manager")
    grant(app, manager_id, "billing_manager")
    target, _ = register(client, "http-target")
    url = f"/admin/users/{target}/tokens"
    assert client.post(f"{url}/credit", json={"amount": 5}, headers=manager).status_code == 201

    def debit(_: int) -> int:
        # No context manager: the lifespan (which disposes the engine) must not run in the workers.
        own_client = TestClient(app)
        return own_client.post(f"{url}/debit", json={"amount": 1}, headers=manager).status_code

    statuses = run_together(20, debit)

    assert sorted(statuses) == [201] * 5 + [409] * 15
    state = client.get(url, headers=manager).json()
    assert state["balance"] == 0
    assert sum(t["amount"] for t in state["transactions"]) == 0
    assert len(state["transactions"]) == 6


def test_credit_debit_and_history_over_http(app: FastAPI, client: TestClient) -> None:
    admin_id, admin = user(client, "admin")
    grant(app, admin_id, "admin")
    target, _ = register(client, "ledger-target")
    url = f"/admin/users/{target}/tokens"

    credited = client.post(f"{url}/credit", json={"amount": 100, "idempotency_key": "k1"}, headers=admin)
    assert credited.status_code == 201
    assert credited.json()["balance_after"] == 100
    assert client.post(f"{url}/credit", json={"amount": 100, "idempotency_key": "k1"}, headers=admin).status_code == 409
    debited = client.post(f"{url}/debit", json={"amount": 30, "kind": "expire"}, headers=admin)
    assert debited.status_code == 201
    assert debited.json() | {"id": 0, "created_at": ""} == {
        "id": 0,
        "kind": "expire",
        "amount": -30,
        "balance_after": 70,
        "description": f"debited by user {admin_id}",
        "created_at": "",
    }
    over = client.post(f"{url}/debit", json={"amount": 71}, headers=admin)
    assert over.status_code == 409
    assert "insufficient" in over.json()["detail"]
    assert client.post(f"{url}/debit", json={"amount": 1, "kind": "grant"}, headers=admin).status_code == 400
    assert client.post(f"{url}/credit", json={"amount": 0}, headers=admin).status_code == 422
    assert client.post("/admin/users/999999999/tokens/credit", json={"amount": 1}, headers=admin).status_code == 404

    state = client.get(url, headers=admin).json()
    assert state["balance"] == 70
    assert [t["amount"] for t in state["transactions"]] == [-30, 100]
    with app.state.sessionmaker() as session:
        row = session.scalars(sa.select(TokenBalance).where(TokenBalance.user_id == target)).one()
        assert row.balance == 70 == tokens.ledger_sum(session, target)


def test_bundle_purchase_credits_the_balance_and_records_the_payment(client: TestClient) -> None:
    _, headers = user(client, "buyer")
    card = {"provider": "stripe", "provider_method_id": "pm_card_visa", "last4": "4242"}
    method = client.post("/payment-methods", json=card, headers=headers).json()

    first = client.post("/token-bundles/tokens_1k/purchase", headers=headers)
    second = client.post(
        "/token-bundles/tokens_10k/purchase", json={"payment_method_id": method["id"]}, headers=headers
    )

    assert first.status_code == 201 and second.status_code == 201
    assert (first.json()["amount"], first.json()["provider"], first.json()["balance"]) == ("5.00", "stripe", 1000)
    assert (second.json()["amount"], second.json()["balance"]) == ("40.00", 11000)
    mine = client.get("/tokens", headers=headers).json()
    assert mine["balance"] == 11000
    assert [(t["kind"], t["amount"]) for t in mine["transactions"]] == [("purchase", 10000), ("purchase", 1000)]
    _, other = user(client, "other-buyer")
    assert (
        client.post(
            "/token-bundles/tokens_1k/purchase", json={"payment_method_id": method["id"]}, headers=other
        ).status_code
        == 404
    )
