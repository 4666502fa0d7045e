"""Password reset: hashed single-use tokens, bound to one user, expiring; no account enumeration."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from api_support import PASSWORD, register, run_together
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import MailOutbox, PasswordResetToken
from billing.services import password_reset

NEW_PASSWORD = "brand-New-Password-9"


def mailed_token(app: FastAPI, client: TestClient, email: str) -> str:
    before = sum(m.to == email for m in app.state.mailer.outbox if m.subject == "Reset your password")
    assert client.post("/auth/forgot-password", json={"email": email}).status_code == 202
    message = app.state.mailer.wait_for(email, "Reset your password", count=before + 1)
    assert message.token
    return str(message.token)


def reset(client: TestClient, email: str, token: str, password: str = NEW_PASSWORD) -> int:
    body = {"email": email, "token": token, "new_password": password}
    return client.post("/auth/reset-password", json=body).status_code


def can_login(client: TestClient, email: str, password: str) -> bool:
    return client.post("/auth/login", json={"email": email, "password": password}).status_code == 200


def test_token_is_stored_hashed_and_works_once(app: FastAPI, client: TestClient) -> None:
    user_id, email = register(client, "once")
    token = mailed_token(app, client, email)

    with app.state.sessionmaker() as session:
        stored = session.scalars(sa.select(PasswordResetToken).where(PasswordResetToken.user_id == user_id)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.used_at is None
    assert timedelta(minutes=29) < stored.expires_at - stored.created_at <= timedelta(minutes=30)

    assert reset(client, email, token) == 200
    assert can_login(client, email, NEW_PASSWORD)
    assert not can_login(client, email, PASSWORD)
    assert reset(client, email, token, "another-Password-7") == 400
    assert can_login(client, email, NEW_PASSWORD)


def test_concurrent_uses_of_one_token_succeed_once(app: FastAPI, client: TestClient) -> None:
    _, email = register(client, "race")
    token = mailed_token(app, client, email)

    statuses = run_together(8, lambda i: reset(TestClient(app), email, token, f"raced-Password-{i}"))

    assert sorted(statuses) == [200] + [400] * 7


def test_expired_token_is_refused(app: FastAPI, client: TestClient) -> None:
    _, email = register(client, "expired")
    with app.state.sessionmaker() as session:
        issued = password_reset.request_reset(
            session, email, 30 * 60, now=datetime.now(timezone.utc) - timedelta(hours=1)
        )
        session.commit()
    assert issued is not None

    assert reset(client, email, issued.token) == 400
    assert can_login(client, email, PASSWORD)


def test_token_cannot_be_used_for_another_account(app: FastAPI, client: TestClient) -> None:
    _, alice = register(client, "alice")
    _, mallory = register(client, "mallory")
    token = mailed_token(app, client, alice)

    assert reset(client, mallory, token) == 400
    assert can_login(client, mallory, PASSWORD)
    assert reset(client, alice, token) == 200  # the failed attempt did not burn it
    assert can_login(client, alice, NEW_PASSWORD)


def test_unknown_email_gets_the_same_reply_and_nothing_is_stored(app: FastAPI, client: TestClient) -> None:
    _, email = register(client, "known")
    known = client.post("/auth/forgot-password", json={"email": email})
    assert app.state.mailer.wait_for(email, "Reset your password").token not in known.text
    unknown = client.post("/auth/forgot-password", json={"email": "nobody-here@example.com"})

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.status_code == 202
    with app.state.sessionmaker() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)) == 1
        queued = session.scalars(sa.select(MailOutbox.recipient).where(MailOutbox.kind == "password_reset")).all()
    assert queued == [email]
    assert app.state.mailer.last_to("nobody-here@example.com") is None


def test_a_new_password_voids_other_outstanding_tokens(app: FastAPI, client: TestClient) -> None:
    _, email = register(client, "two-tokens")
    first = mailed_token(app, client, email)
    second = mailed_token(app, client, email)

    assert reset(client, email, second) == 200
    assert reset(client, email, first, "yet-another-Password-5") == 400
    assert reset(client, email, "made-up-token") == 400
