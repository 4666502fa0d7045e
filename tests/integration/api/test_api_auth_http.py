"""Throttling, sessions that end with the password, SMTP delivery and the shared secret, over real HTTP to uvicorn."""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from api_support import PASSWORD, http_user, unique_email, uvicorn_server

from dbops.core.ports import free_port

# Each test starts a real uvicorn process: left out of full-check's fast subset, run by `invoke test --all`.
pytestmark = pytest.mark.slow

WAIT = 30.0  # generous: how long a background mail may take to arrive, never asserted as a speed


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message."""
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def wait_for(self, to: str) -> email.message.Message:
        """The first message to ``to``, waiting for it to arrive."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if message["To"] == to:
                        return message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {to} arrived")


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
        assert inbox.wait_for(address)["Subject"] == "Welcome"

        forgot = client.post("/auth/forgot-password", json={"email": address})
        assert forgot.status_code == 202
        reset_mail = next(m for m in _wait_all(inbox, address, 2) if m["Subject"] == "Reset your password")
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


def _wait_all(inbox: Inbox, to: str, count: int) -> list[email.message.Message]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with inbox.lock:
            found = [m for m in inbox.messages if m["To"] == to]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} mails to {to} arrived")


def test_login_is_throttled_per_account_and_the_right_password_waits_too(seeded_url: str, tmp_path: Path) -> None:
    with uvicorn_server(seeded_url, tmp_path) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        address, _ = http_user(client, "brute")
        wrong = [client.post("/auth/login", json={"email": address, "password": f"guess-{i}-xxxx"}) for i in range(10)]
        assert [r.status_code for r in wrong] == [401] * 10
        # The eleventh attempt in the window is refused before the password is even looked at.
        blocked = client.post("/auth/login", json={"email": address, "password": PASSWORD})
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) >= 1
        # Another account from the same address is not affected by this account's counter.
        other, _ = http_user(client, "bystander")
        assert client.post("/auth/login", json={"email": other, "password": PASSWORD}).status_code == 200


def test_forgot_password_is_throttled_per_account_and_per_address(seeded_url: str, tmp_path: Path) -> None:
    with uvicorn_server(seeded_url, tmp_path) as base, httpx.Client(base_url=base, timeout=WAIT) as client:
        address, _ = http_user(client, "forgetful")
        codes = [client.post("/auth/forgot-password", json={"email": address}).status_code for _ in range(4)]
        assert codes == [202, 202, 202, 429]
        mails = sorted((tmp_path / "mail").glob("*.json"))
        assert sum('"Reset your password"' in p.read_text() for p in mails) == 3  # the refused one mailed nothing
        # Unknown addresses count per address: 20 per hour from one client (3 spent above; a refused one
        # does not count), then 429.
        unknown = [client.post("/auth/forgot-password", json={"email": unique_email("nobody")}) for _ in range(18)]
        assert [r.status_code for r in unknown] == [202] * 17 + [429]
        assert unknown[-1].headers["Retry-After"].isdigit()


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
        for i in range(11):
            with httpx.Client(base_url=base, timeout=WAIT) as fresh:
                logins.append(fresh.post("/auth/login", json={"email": address, "password": f"nope-{i}-xxxx"}))
        assert [r.status_code for r in logins] == [401] * 10 + [429]
