"""No lockout by strangers: who can slow down whom, and the owner's way back in through a reset mail.

The app here has small limits so a few requests reach them; each test client is another address.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_support import PASSWORD, register
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.api.app import create_app, dispose_engines
from billing.security import TEST_HASHER, new_secret
from billing.services.mail import InMemoryMailer
from billing.services.throttle import DAY, Limit, ThrottlePolicy

POLICY = ThrottlePolicy(
    per_pair={"login": Limit(3, 900), "reset": Limit(3, 900)},
    per_address={"login": Limit(6, 900), "forgot": Limit(50, 900), "reset": Limit(50, 900), "signup": Limit(50, 900)},
    per_account={"login": Limit(8, DAY, first_delay=DAY, max_delay=DAY)},
    mail_quota=Limit(2, 1800),
)
NEW_PASSWORD = "owner-New-Password-4"


@pytest.fixture()
def small(seeded_url: str) -> Iterator[FastAPI]:
    """The app with POLICY's limits (3 free logins per account and client, 6 per client, 8 per account), started."""
    application = create_app(
        seeded_url, mailer=InMemoryMailer(), throttle=POLICY, secret=new_secret(), password_hasher=TEST_HASHER
    )
    with TestClient(application):  # runs the app's lifespan (its mail courier) once for the whole test
        yield application
    dispose_engines(application)


def _from(app: FastAPI, address: str) -> TestClient:
    """A client at ``address`` (the app is already started: this client does not start it again)."""
    return TestClient(app, client=(address, 40000))


def _login(client: TestClient, email: str, password: str) -> int:
    return client.post("/auth/login", json={"email": email, "password": password}).status_code


def test_failures_on_one_account_pause_only_the_client_that_made_them(small: FastAPI) -> None:
    stranger, owner = _from(small, "198.51.100.1"), _from(small, "198.51.100.2")
    _, email = register(owner, "paused")
    assert [_login(stranger, email, f"wrong-{i}-guess") for i in range(4)] == [401, 401, 401, 429]
    assert _login(owner, email, PASSWORD) == 200


def test_one_client_failing_on_many_accounts_is_paused_on_all(small: FastAPI) -> None:
    sprayer, other = _from(small, "198.51.100.3"), _from(small, "198.51.100.4")
    emails = [register(other, f"spray-{i}")[1] for i in range(4)]
    codes = [_login(sprayer, email, f"wrong-{n}-guess") for n in range(2) for email in emails[:3]]
    assert codes == [401] * 6
    assert _login(sprayer, emails[3], PASSWORD) == 429
    assert _login(other, emails[3], PASSWORD) == 200


def test_the_owner_locked_out_by_strangers_gets_back_in_with_a_reset_mail(small: FastAPI) -> None:
    mailer: InMemoryMailer = small.state.mailer
    owner = _from(small, "198.51.100.9")
    _, email = register(owner, "locked")
    # Eight failures from eight clients: each client's own count is low, the account's ceiling is reached.
    for n in range(8):
        assert _login(_from(small, f"203.0.113.{n + 1}"), email, f"wrong-{n}-guess") == 401
    assert _login(owner, email, PASSWORD) == 429
    # Strangers can ask for reset mails too: the owner's request is never refused, and at most the quota is sent.
    assert _from(small, "203.0.113.50").post("/auth/forgot-password", json={"email": email}).status_code == 202
    assert owner.post("/auth/forgot-password", json={"email": email}).status_code == 202
    assert owner.post("/auth/forgot-password", json={"email": email}).status_code == 202
    token = mailer.wait_for(email, "Reset your password", count=2).token
    assert token is not None
    body = {"email": email, "token": token, "new_password": NEW_PASSWORD}
    assert owner.post("/auth/reset-password", json=body).status_code == 200
    assert _login(owner, email, NEW_PASSWORD) == 200
    assert len([m for m in mailer.outbox if m.subject == "Reset your password"]) == 2
