"""Forgot-password and sign-up do the same database work whether or not the email has an account."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from api_support import PASSWORD, register, unique_email
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import PasswordResetToken


@contextmanager
def statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL text of every statement the app's engine runs meanwhile."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(app.state.engine, "before_cursor_execute", record)


def test_forgot_password_runs_the_same_statements_for_known_and_unknown_emails(
    app: FastAPI, client: TestClient
) -> None:
    _, known = register(client, "known")
    with statements(app) as for_known:
        known_reply = client.post("/auth/forgot-password", json={"email": known})
    with statements(app) as for_unknown:
        unknown_reply = client.post("/auth/forgot-password", json={"email": unique_email("unknown")})

    assert (known_reply.status_code, known_reply.json()) == (unknown_reply.status_code, unknown_reply.json())
    assert for_known == for_unknown
    # The mail is queued by the same statement either way; its token is issued when it is sent.
    assert any("INSERT INTO mail_outbox" in sql for sql in for_known)
    message = app.state.mailer.wait_for(known, "Reset your password")
    assert message.token is not None
    with app.state.sessionmaker() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)) == 1


def test_sign_up_answers_the_same_for_a_taken_email(app: FastAPI, client: TestClient) -> None:
    _, taken = register(client, "taken")
    new = client.post("/auth/register", json={"email": unique_email("new"), "password": PASSWORD})
    again = client.post("/auth/register", json={"email": taken, "password": "some-Other-Password-3"})

    assert (new.status_code, new.json()) == (again.status_code, again.json()) == (202, new.json())
    assert "exist" not in again.text
