"""Fixtures for the API tests: a seeded database at head, the app over it, and a client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.api.app import create_app, dispose_engines
from billing.security import TEST_HASHER, new_secret
from billing.services.mail import InMemoryMailer
from billing.services.throttle import ThrottlePolicy
from dbops.core.dburl import URL
from dbops.core.urls import plain_url


@pytest.fixture()
def seeded_url(seeded_database: URL) -> str:
    """A fresh database at head with the reference data loaded (cloned from a seeded template), as a URL string."""
    return plain_url(seeded_database)


@pytest.fixture()
def app(seeded_url: str) -> Iterator[FastAPI]:
    """The billing app over the seeded database (room for 2 x 15 concurrent connections).

    Mail goes to an in-memory outbox; every test client has one address, so the throttle limits are
    scaled up (the throttle tests build their own app with the real limits). Its accounts are throwaway
    ones, so passwords are hashed with argon2 at its cheapest (test_api_billing checks the served default).
    """
    application = create_app(
        seeded_url,
        pool_size=15,
        mailer=InMemoryMailer(),
        throttle=ThrottlePolicy().scaled(100),
        secret=new_secret(),
        password_hasher=TEST_HASHER,
    )
    yield application
    dispose_engines(application)


@pytest.fixture()
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client that re-raises server errors."""
    with TestClient(app) as test_client:
        yield test_client
