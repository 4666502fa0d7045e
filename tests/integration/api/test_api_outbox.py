"""No mail lost: the outbox is written with the change, and delivered once an SMTP server is there to take it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from api_support import PASSWORD, Inbox, unique_email
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.api.app import create_app, dispose_engines, outbox_sender
from billing.models import MailOutbox, MailStatus, PasswordResetToken
from billing.security import TEST_HASHER, new_secret
from billing.services.mail import SmtpMailer
from billing.services.throttle import ThrottlePolicy
from dbops.core.ports import free_port

WAIT = 30.0


@pytest.fixture()
def port() -> int:
    """A loopback port with no SMTP server on it (yet)."""
    return free_port()


@pytest.fixture()
def down_app(seeded_url: str, port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """The app with a plain SMTP mailer at ``port``, where nothing listens yet; retries start after 1 s."""
    monkeypatch.setenv("BILLING_MAIL_RETRY_SECONDS", "1")
    mailer = SmtpMailer(host="127.0.0.1", port=port, starttls=False, timeout=5)
    application = create_app(
        seeded_url,
        mailer=mailer,
        throttle=ThrottlePolicy().scaled(100),
        secret=new_secret(),
        password_hasher=TEST_HASHER,
    )
    yield application
    dispose_engines(application)


def _rows(app: FastAPI, recipient: str) -> list[MailOutbox]:
    with app.state.sessionmaker() as session:
        return list(session.scalars(sa.select(MailOutbox).where(MailOutbox.recipient == recipient)).all())


def test_mail_queued_while_the_server_is_down_arrives_once_when_it_is_up(down_app: FastAPI, port: int) -> None:
    address = unique_email("outage")
    with TestClient(down_app) as client:
        assert client.post("/auth/register", json={"email": address, "password": PASSWORD}).status_code == 202
        assert client.post("/auth/forgot-password", json={"email": address}).status_code == 202
        deadline = time.monotonic() + WAIT
        while not all(row.last_error for row in _rows(down_app, address)) and time.monotonic() < deadline:
            time.sleep(0.05)
        rows = _rows(down_app, address)
        assert [(r.kind, r.status) for r in rows] == [
            ("welcome", MailStatus.PENDING),
            ("password_reset", MailStatus.PENDING),
        ]
        assert all(r.last_error and "Connection" in r.last_error for r in rows)
        with down_app.state.sessionmaker() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(PasswordResetToken)) == 1  # unknown to all

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            # The app's own courier retries (1 s, 2 s, 4 s, ...) until the server takes them.
            while len(inbox.to(address)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.5)  # another round or two: nothing is sent twice
            assert [m["Subject"] for m in inbox.to(address)] == ["Welcome", "Reset your password"]
            # What `invoke mail.send` runs finds nothing left to do.
            sender, engine = outbox_sender(down_app.state.engine.url.render_as_string(False), down_app.state.mailer)
            try:
                assert sender.deliver() == 0
            finally:
                engine.dispose()
        finally:
            controller.stop()
    rows = _rows(down_app, address)
    assert [r.status for r in rows] == [MailStatus.SENT, MailStatus.SENT]
    assert all(r.attempts >= 2 and r.last_error is None and r.sent_at is not None for r in rows)


def test_starttls_against_a_server_without_tls_fails_at_start_up(seeded_url: str, port: int) -> None:
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = create_app(seeded_url, mailer=SmtpMailer(host="127.0.0.1", port=port, starttls=True), secret=new_secret())
        try:
            with pytest.raises(RuntimeError, match="offers no STARTTLS: set BILLING_SMTP_STARTTLS=0"), TestClient(app):
                pass
            # Plain SMTP as configured starts, and a server that is down only delays mail.
            SmtpMailer(host="127.0.0.1", port=port, starttls=False).check()
            SmtpMailer(host="127.0.0.1", port=free_port(), starttls=True).check()
        finally:
            dispose_engines(app)
    finally:
        controller.stop()
