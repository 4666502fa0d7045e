"""The edge over real HTTP: slow clients cost nothing, forwarded headers count only from listed proxies."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from api_support import PASSWORD, http_user, unique_email, uvicorn_server
from fastapi import FastAPI

from billing.models import AuthThrottle

# Each test starts a real uvicorn process: left out of full-check's fast subset, run by `invoke test --all`.
pytestmark = pytest.mark.slow

TRICKLERS = 100
HEAD_TRICKLERS = 10
# Short server limits, so the slow clients are cut off within the test.
SLOW_ENV = {"BILLING_BODY_TIMEOUT_SECONDS": "2", "BILLING_HEADER_TIMEOUT_SECONDS": "2", "BILLING_DB_POOL_SIZE": "5"}
GIVE_UP = 20.0  # a bound on every wait below, never asserted as a speed


async def _trickle(port: int, whole_head: bool) -> bytes:
    """Send a login request slowly (the body, or the head itself, one byte per 0.3 s); what the server answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    slow = b"{" + b" " * 998 + b"}"
    if whole_head:
        writer.write(head)
    else:
        slow = head + slow
    answer = asyncio.ensure_future(reader.read(4096))
    try:
        for byte in slow:
            if answer.done():
                break
            writer.write(bytes([byte]))
            await asyncio.sleep(0.3)
        return await asyncio.wait_for(answer, GIVE_UP)
    except (ConnectionError, asyncio.TimeoutError):
        return b""
    finally:
        answer.cancel()
        writer.close()


async def _normal_traffic(base: str, email: str, seconds: float) -> list[int]:
    """One ordinary client's catalogue reads, logins and /auth/me for ``seconds``; every status it got."""
    codes: list[int] = []
    async with httpx.AsyncClient(base_url=base, timeout=GIVE_UP) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            login = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
            codes.append(login.status_code)
            if login.status_code != 200:
                continue
            token = {"Authorization": f"Bearer {login.json()['access_token']}"}
            for response in await asyncio.gather(client.get("/plans"), client.get("/auth/me", headers=token)):
                codes.append(response.status_code)
    return codes


def test_a_hundred_trickling_connections_change_nothing_for_other_clients(seeded_url: str, tmp_path: Path) -> None:
    with uvicorn_server(seeded_url, tmp_path, SLOW_ENV) as base:
        with httpx.Client(base_url=base, timeout=GIVE_UP) as client:
            email, _ = http_user(client, "bystander")
        port = int(base.rsplit(":", 1)[1])

        async def scenario() -> tuple[list[bytes], list[bytes], list[int]]:
            bodies = [asyncio.ensure_future(_trickle(port, whole_head=True)) for _ in range(TRICKLERS)]
            heads = [asyncio.ensure_future(_trickle(port, whole_head=False)) for _ in range(HEAD_TRICKLERS)]
            await asyncio.sleep(0.5)  # every slow client is connected and trickling
            codes = await _normal_traffic(base, email, 3.0)
            return await asyncio.gather(*bodies), await asyncio.gather(*heads), codes

        bodies, heads, codes = asyncio.run(scenario())
    assert codes and set(codes) == {200}, sorted(set(codes))
    # Slow bodies are answered 408 once their time is up; slow heads are simply closed.
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in bodies), {a[:20] for a in bodies}
    assert heads == [b""] * HEAD_TRICKLERS


def _address_counter(app: FastAPI, action: str, address: str) -> int | None:
    # The throttle stores a subject as the SHA-256 of "<kind>:<subject>".
    digest = hashlib.sha256(f"address:{address}".encode()).hexdigest()
    with app.state.sessionmaker() as session:
        return session.scalar(
            sa.select(AuthThrottle.attempts).where(AuthThrottle.action == action, AuthThrottle.subject_hash == digest)
        )


def _forgot_with_rotating_forwarded_for(client: httpx.Client, spoofed: list[str]) -> list[int]:
    return [
        client.post(
            "/auth/forgot-password", json={"email": unique_email("x")}, headers={"X-Forwarded-For": ip}
        ).status_code
        for ip in spoofed
    ]


def test_forwarded_headers_count_only_from_listed_proxies(seeded_url: str, tmp_path: Path, app: FastAPI) -> None:
    spoofed = [f"203.0.113.{n}" for n in range(1, 22)]
    with uvicorn_server(seeded_url, tmp_path) as base, httpx.Client(base_url=base, timeout=GIVE_UP) as client:
        # Twenty per hour from this client, whatever it claims to forward.
        assert _forgot_with_rotating_forwarded_for(client, spoofed) == [202] * 20 + [429]
        assert _address_counter(app, "forgot", "127.0.0.1") == 20
        assert all(_address_counter(app, "forgot", ip) is None for ip in spoofed)
        card = client.get("/plans", params={"card": "4242 4242 4242 4242"})
        assert card.status_code == 422
    log = "".join(p.read_text() for p in tmp_path.glob("uvicorn-*.log"))
    assert "GET /plans" in log and "4242" not in log

    trusted = {"BILLING_TRUSTED_PROXIES": "127.0.0.1"}
    with uvicorn_server(seeded_url, tmp_path, trusted) as base, httpx.Client(base_url=base, timeout=GIVE_UP) as client:
        forwarded = "198.51.100.77"
        response = client.post(
            "/auth/forgot-password", json={"email": unique_email("y")}, headers={"X-Forwarded-For": forwarded}
        )
        assert response.status_code == 202
        # From a listed proxy the forwarded client is the one counted.
        assert _address_counter(app, "forgot", forwarded) == 1
        assert _address_counter(app, "forgot", "127.0.0.1") == 20


def test_behind_plain_uvicorn_a_rotating_header_still_resets_nothing(seeded_url: str, tmp_path: Path) -> None:
    # uvicorn's own command line believes X-Forwarded-For from 127.0.0.1: every such request counts as one client.
    with (
        uvicorn_server(seeded_url, tmp_path, plain=True) as base,
        httpx.Client(base_url=base, timeout=GIVE_UP) as client,
    ):
        spoofed = [f"192.0.2.{n}" for n in range(1, 22)]
        assert _forgot_with_rotating_forwarded_for(client, spoofed) == [202] * 20 + [429]
