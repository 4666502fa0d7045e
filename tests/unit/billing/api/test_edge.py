"""billing.api.edge: which address is the client's, and what reaches the app, over plain ASGI calls."""

from __future__ import annotations

import asyncio
from typing import Any

from billing.api.edge import UNVERIFIED, BodyReader, ClientAddress

Scope = dict[str, Any]


def _client_seen(trusted: list[str], peer: str, forwarded: list[str]) -> str:
    """The client address the app behind ClientAddress sees for a request from ``peer``."""
    seen: list[str] = []

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        seen.append(scope["client"][0])

    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {"type": "http", "client": (peer, 5000), "headers": headers, "path": "/"}
    asyncio.run(ClientAddress(app, trusted)(scope, None, None))
    return seen[0]


def test_forwarded_for_changes_nothing_unless_the_peer_is_a_listed_proxy() -> None:
    assert _client_seen([], "127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"
    assert _client_seen(["10.0.0.0/8"], "127.0.0.1", ["203.0.113.9"]) == "127.0.0.1"
    assert _client_seen(["127.0.0.1"], "127.0.0.1", ["203.0.113.9"]) == "203.0.113.9"


def test_a_peer_already_replaced_from_the_header_counts_as_one_unverified_client() -> None:
    # Plain uvicorn believes X-Forwarded-For from 127.0.0.1 and puts a hop where the peer was.
    assert _client_seen([], "203.0.113.9", ["203.0.113.9"]) == UNVERIFIED
    assert _client_seen([], "198.51.100.1", ["10.1.1.1, 198.51.100.1"]) == UNVERIFIED
    assert _client_seen([], "evil", ["evil"]) == UNVERIFIED
    assert _client_seen([], "127.0.0.1", []) == "127.0.0.1"


def test_the_client_is_the_first_hop_that_is_not_a_proxy_reading_from_the_right() -> None:
    # The left part of the header is whatever the client wrote; only hops added by listed proxies count.
    assert _client_seen(["10.0.0.0/8"], "10.0.0.2", ["1.1.1.1, 198.51.100.7, 10.0.0.3"]) == "198.51.100.7"
    assert _client_seen(["10.0.0.0/8"], "10.0.0.2", ["1.1.1.1", "198.51.100.7:4431"]) == "198.51.100.7"
    assert _client_seen(["10.0.0.0/8"], "10.0.0.2", ["not-an-address"]) == "10.0.0.2"


def _answer(reader: BodyReader, chunks: list[bytes], delay: float = 0.0, **scope: Any) -> tuple[int, bytes]:
    """Send ``chunks`` (``delay`` seconds apart) through ``reader``; the status and body of its answer."""
    sent: list[dict[str, Any]] = []
    queue = list(chunks)

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(delay)
        body = queue.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(queue)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    full = {"type": "http", "path": "/x", "query_string": b"", "headers": [], **scope}
    asyncio.run(reader(full, receive, send))
    return sent[0]["status"], sent[1]["body"]


async def _echo(scope: Scope, receive: Any, send: Any) -> None:
    body = (await receive())["body"]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_the_body_is_read_whole_in_time_and_without_card_numbers() -> None:
    reader = BodyReader(_echo, max_bytes=100, timeout=0.5)
    assert _answer(reader, [b'{"a":', b" 1}"]) == (200, b'{"a": 1}')
    assert _answer(reader, [b"x" * 60, b"x" * 60])[0] == 413
    assert _answer(reader, [b"x", b"x", b"x"], delay=0.3, headers=[(b"content-length", b"3")])[0] == 408
    status, body = _answer(reader, [b'{"token": "4242 4242 4242 4242"}'])
    assert status == 422 and b"4242" not in body
    assert _answer(reader, [b"{}"], query_string=b"card=4242%204242%204242%204242")[0] == 422
    assert _answer(reader, [b"{}"], headers=[(b"idempotency-key", b"4242424242424242")])[0] == 422
