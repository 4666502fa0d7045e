"""Helpers for the API tests: users over HTTP, roles through the service layer, concurrent calls, a real uvicorn."""

from __future__ import annotations

import contextlib
import email
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from billing.models import Feature, PlanFeature, TariffPlan, UsagePeriod
from billing.services import rbac
from dbops.core.ports import free_port

PASSWORD = "test-Password-1"
T = TypeVar("T")


def unique_email(label: str) -> str:
    """An email no other test uses."""
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def register(client: TestClient, label: str, password: str = PASSWORD) -> tuple[int, str]:
    """Register a user over HTTP; return (id, email)."""
    email = unique_email(label)
    response = client.post("/auth/register", json={"email": email, "password": password})
    assert response.status_code == 202, response.text
    me = client.get("/auth/me", headers=login(client, email, password))
    assert me.status_code == 200, me.text
    return int(me.json()["id"]), email


def login(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    """Log in over HTTP; return the Authorization header."""
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def user(client: TestClient, label: str) -> tuple[int, dict[str, str]]:
    """Register and log in; return (id, headers)."""
    user_id, email = register(client, label)
    return user_id, login(client, email)


def sent_twice(
    client: TestClient, path: str, headers: dict[str, str], key: str, body: dict[str, Any] | None = None
) -> tuple[Any, Any]:
    """POST the same request twice with Idempotency-Key ``key``; both responses."""
    keyed = {**headers, "Idempotency-Key": key}
    return client.post(path, json=body, headers=keyed), client.post(path, json=body, headers=keyed)


def grant(app: FastAPI, user_id: int, role: str) -> None:
    """Grant a seeded role directly (the tests do not know the admin's password)."""
    with app.state.sessionmaker() as session:
        rbac.grant_role(session, user_id, role)
        session.commit()


def run_together(count: int, work: Callable[[int], T], prepare: Callable[[int], None] | None = None) -> list[T]:
    """Run ``work(i)`` in ``count`` threads released together by a Barrier; return the results in order."""
    barrier = threading.Barrier(count, timeout=60)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            if prepare is not None:
                prepare(i)
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    assert all(not t.is_alive() for t in threads), "a worker thread hung"
    return results


def add_feature_to_plan(app: FastAPI, plan_code: str, limit: int | None, period: UsagePeriod) -> str:
    """A new feature, included in the plan with ``limit`` per ``period``; returns its code."""
    code = f"metered_{uuid.uuid4().hex[:8]}"
    with app.state.sessionmaker() as session:
        feature = Feature(code=code, name=code)
        session.add(feature)
        session.flush()
        plan_id = session.scalar(sa.select(TariffPlan.id).where(TariffPlan.code == plan_code))
        session.add(PlanFeature(plan_id=plan_id, feature_id=feature.id, usage_limit=limit, period=period))
        session.commit()
    return code


@contextlib.contextmanager
def uvicorn_server(
    database_url: str, tmp_path: Path, env: dict[str, str] | None = None, workers: int = 1, plain: bool = False
) -> Iterator[str]:
    """A real uvicorn serving the app over ``database_url`` on a free loopback port; yields its base URL.

    Mail goes to files under ``tmp_path`` and the generated JWT secret to a file there, unless ``env`` says otherwise.
    ``plain`` runs uvicorn's own command line with its defaults instead of ``billing.api.server``.
    """
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BILLING_MAIL_DIR": str(tmp_path / "mail"),
        "BILLING_JWT_SECRET_FILE": str(tmp_path / "jwt.secret"),
        **(env or {}),
    }
    for name in ("BILLING_JWT_SECRET", "BILLING_SMTP_HOST", "BILLING_TRUSTED_PROXIES"):
        if name not in (env or {}):
            full_env.pop(name, None)
    # Served as the Dockerfile and `invoke api` serve it: uvicorn with the head timeout, no proxy headers of its own.
    command = [sys.executable, "-m", "billing.api.server", "--port", str(port), "--workers", str(workers)]
    if plain:
        command = [sys.executable, "-m", "uvicorn", "billing.api.app:create_app", "--factory", "--port", str(port)]
        command += ["--workers", str(workers)]
    log = (tmp_path / f"uvicorn-{port}.log").open("wb")
    # Its access log (stdout) and errors (stderr) both go to the log file, for tests that read what it logged.
    proc = subprocess.Popen(command, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(f"{base}/plans", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start: {(tmp_path / f'uvicorn-{port}.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        log.close()


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

    def to(self, address: str) -> list[email.message.Message]:
        """The messages to ``address`` so far."""
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 30.0) -> list[email.message.Message]:
        """The messages to ``address`` once there are ``count``; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} mails to {address} arrived")


def client_from(base: str, address: str, timeout: float = 60.0) -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (any of 127.0.0.0/8): another client to the server."""
    return httpx.Client(base_url=base, timeout=timeout, transport=httpx.HTTPTransport(local_address=address))


def http_user(client: httpx.Client, label: str, password: str = PASSWORD) -> tuple[str, dict[str, str]]:
    """Sign up and log in over real HTTP; return (email, Authorization header)."""
    email = unique_email(label)
    assert client.post("/auth/register", json={"email": email, "password": password}).status_code == 202
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return email, {"Authorization": f"Bearer {response.json()['access_token']}"}
