"""Throttling, sessions that end with the password, SMTP delivery and the shared secret, over real HTTP to uvicorn."""

from __future__ import annotations

import email
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from api_support import PASSWORD, Inbox, client_from, http_user, unique_email, uvicorn_server
from fastapi import FastAPI

from billing.models import MailOutbox
from dbops.core.ports import free_port

# Each test starts a real uvicorn process: left out of full-check's fast subset, run by `invoke test --all`.
pytestmark = pytest.mark.slow

WAIT = 30.0  # generous: how long a background mail may take to arrive, never asserted as a speed


@pytest.fixture()
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free loopback port; its inbox and port."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _token_in(message: email.message.Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    lines = [line.strip() for line in payload.decode().splitlines() if line.strip()]
    return lines[lines.index(next(line for line in lines if line.startswith("Use this token"))) + 1]


def test_a_reset_mail_reaches_the_mailbox_and_the_reset_ends_every_session(
    seeded_url: str, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    env = {"BILLING_SMTP_HOST": "127.0.0.1", "BILLING_SMTP_PORT": str(port), "BILLING_SMTP_STARTTLS": "0"}
    with uvicorn_server(seeded_url, tmp_path, env) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        address, old_session = http_user(client, "reset-smtp")
        assert client.get("/auth/me", headers=old_session).status_code == 200
        assert inbox.wait_for(address)[0]["Subject"] == "Welcome"

        forgot = client.post("/auth/forgot-password", json={"email": address})
        assert forgot.status_code == 202
        reset_mail = next(m for m in inbox.wait_for(address, 2) if m["Subject"] == "Reset your password")
        token = _token_in(reset_mail)
        assert token not in forgot.text
        new_password = "a-Brand-New-Password-7"
        body = {"email": address, "token": token, "new_password": new_password}
        reset = client.post("/auth/reset-password", json=body)
        assert reset.status_code == 200, reset.text

        # The access token issued before the reset is dead at once, not at its expiry.
        refused = client.get("/auth/me", headers=old_session)
        assert refused.status_code == 401
        assert "password changed" in refused.json()["detail"]
        fresh = client.post("/auth/login", json={"email": address, "password": new_password}).json()["access_token"]
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_wrong_logins_slow_the_client_that_makes_them_and_never_lock_the_owner(seeded_url: str, tmp_path: Path) -> None:
    with uvicorn_server(seeded_url, tmp_path) as base, httpx.Client(base_url=base, timeout=WAIT) as stranger:
        address, _ = http_user(stranger, "brute")
        wrong = [stranger.post("/auth/login", json={"email": address, "password": f"guess-{i}-xxxx"}) for i in range(5)]
        assert [r.status_code for r in wrong] == [401] * 5
        # Past five failures this client waits before its next attempt is heard, and the wait grows.
        paused = stranger.post("/auth/login", json={"email": address, "password": "guess-5-xxxx"})
        assert paused.status_code == 429
        first_wait = int(paused.headers["Retry-After"])
        assert 1 <= first_wait <= 2
        # The owner, on another client, is not slowed down at all.
        with client_from(base, "127.0.0.2", WAIT) as owner:
            assert owner.post("/auth/login", json={"email": address, "password": PASSWORD}).status_code == 200
        time.sleep(first_wait)
        assert stranger.post("/auth/login", json={"email": address, "password": "guess-6-xxxx"}).status_code == 401
        again = stranger.post("/auth/login", json={"email": address, "password": "guess-7-xxxx"})
        assert again.status_code == 429
        assert int(again.headers["Retry-After"]) >= first_wait
        # A pause, not a lock: the right password from this client works once the pause is over.
        time.sleep(int(again.headers["Retry-After"]))
        assert stranger.post("/auth/login", json={"email": address, "password": PASSWORD}).status_code == 200


def test_forgot_password_never_refuses_the_owner_and_mails_at_most_the_quota(
    seeded_url: str, tmp_path: Path, app: FastAPI
) -> None:
    with uvicorn_server(seeded_url, tmp_path) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        address, _ = http_user(client, "forgetful")
        codes = [client.post("/auth/forgot-password", json={"email": address}).status_code for _ in range(4)]
        assert codes == [202] * 4
        # Three reset mails per token lifetime: the fourth request queued nothing, and the third token still works.
        with app.state.sessionmaker() as session:
            queued = session.scalars(sa.select(MailOutbox.kind).where(MailOutbox.recipient == address)).all()
        assert sorted(queued) == ["password_reset"] * 3 + ["welcome"]
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and _reset_mails(tmp_path) < 3:
            time.sleep(0.05)
        assert _reset_mails(tmp_path) == 3
        # Per client: 20 per hour (4 spent above), then 429 for this client only.
        unknown = [client.post("/auth/forgot-password", json={"email": unique_email("nobody")}) for _ in range(17)]
        assert [r.status_code for r in unknown] == [202] * 16 + [429]
        assert unknown[-1].headers["Retry-After"].isdigit()
        with client_from(base, "127.0.0.3", WAIT) as owner:
            assert owner.post("/auth/forgot-password", json={"email": address}).status_code == 202


def _reset_mails(tmp_path: Path) -> int:
    return sum('"Reset your password"' in p.read_text() for p in (tmp_path / "mail").glob("*.json"))


def test_wrong_reset_tokens_and_sign_ups_are_throttled(seeded_url: str, tmp_path: Path) -> None:
    with uvicorn_server(seeded_url, tmp_path) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        address, _ = http_user(client, "target")
        attempt = {"email": address, "token": "not-the-token", "new_password": "whatever-Password-1"}
        codes = [client.post("/auth/reset-password", json=attempt).status_code for _ in range(11)]
        assert codes == [400] * 10 + [429]
        # One sign-up is spent above; the address may sign up 20 times an hour.
        signups = [
            client.post("/auth/register", json={"email": unique_email("bulk"), "password": PASSWORD}).status_code
            for _ in range(20)
        ]
        assert signups == [202] * 19 + [429]


def test_two_workers_without_a_configured_secret_share_one_secret_and_one_throttle(
    seeded_url: str, tmp_path: Path
) -> None:
    with uvicorn_server(seeded_url, tmp_path, workers=2) as base:
        with httpx.Client(base_url=base, timeout=WAIT) as client:
            address, headers = http_user(client, "two-workers")
        # A fresh connection per request, so the requests spread over both workers.
        answers = []
        for _ in range(30):
            with httpx.Client(base_url=base, timeout=WAIT) as fresh:
                answers.append(fresh.get("/auth/me", headers=headers).status_code)
        assert answers == [200] * 30
        logins = []
        for i in range(6):
            with httpx.Client(base_url=base, timeout=WAIT) as fresh:
                logins.append(fresh.post("/auth/login", json={"email": address, "password": f"nope-{i}-xxxx"}))
        assert [r.status_code for r in logins] == [401] * 5 + [429]
