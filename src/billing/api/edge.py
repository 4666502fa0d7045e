"""The outer ASGI layers: who the client is, and a whole, bounded, card-free body before anything else runs.

Order (outermost first): ClientAddress, then BodyReader, then the concurrency gate, then the app. A
slow or stalled body is therefore read (or timed out) while the request holds nothing but a
coroutine: no gate slot, no thread, no database connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

from billing.cards import contains_pan

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Any
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# The client of a request whose peer address a server in front replaced from X-Forwarded-For, unasked.
UNVERIFIED = "unverified-forwarded"

CARD_REFUSED = (
    "card numbers are not accepted here: add a card through the payment provider's tokenisation "
    "and send its token (pm_...)"
)


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The networks of a trusted-proxy list (``10.0.0.5``, ``10.0.0.0/8``, ``::1``)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(text: str) -> Address | None:
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:
        candidate = candidate.split(":", 1)[0]  # an IPv4 address with a port
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


class ClientAddress:
    """ASGI middleware: the client is the TCP peer, unless that peer is a listed proxy.

    Only then is X-Forwarded-For read, right to left, skipping further listed proxies; the first
    address that is not a proxy is the client. With no proxies listed (the default) the header
    changes nothing, whoever sends it. One case needs care: a server in front of the app that
    believed the header itself (plain ``uvicorn`` trusts 127.0.0.1 by default) has already put one
    of its hops in place of the peer. The true peer is then unknown, so with no proxies listed such
    a request counts as one shared client, ``UNVERIFIED``: rotating the header resets nothing.
    """

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted = parse_networks(trusted)

    def _is_proxy(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Replace ``scope["client"]`` with the forwarded client (from a listed proxy) or UNVERIFIED."""
        forwarded = b",".join(v for k, v in scope.get("headers") or [] if k == b"x-forwarded-for")
        if scope["type"] == "http" and forwarded and scope.get("client"):
            seen = str(scope["client"][0])
            client = self._client(seen, [hop.strip() for hop in forwarded.decode("latin-1").split(",")])
            if client != seen:
                scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)

    def _client(self, seen: str, raw_hops: list[str]) -> str:
        peer, hops = _address(seen), [_address(hop) for hop in raw_hops]
        if not self.trusted:
            replaced = seen in raw_hops or (peer is not None and peer in hops)
            return UNVERIFIED if replaced else seen
        if not self._is_proxy(peer):
            return seen  # a client speaking for itself (or already resolved by a server told the same proxies)
        for address in reversed(hops):
            if address is None:
                break  # a malformed hop: believe nothing further left of it
            if not self._is_proxy(address):
                return str(address)
        return seen


class BodyReader:
    """ASGI middleware: the body is read whole (at most ``max_bytes``, within ``timeout`` seconds) first.

    413 for a body too large, 408 for one too slow, 400 for a NUL in the path, 422 for a card number
    in the path, the query, the Idempotency-Key or the body. The app gets a receive that replays it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Refuse or read, then run the app with the body in hand."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await reply(send, 400, "the path must not contain NUL bytes")
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await reply(send, 413, f"the request body must be at most {self.max_bytes} bytes")
            return
        try:
            if declared is None and b"transfer-encoding" not in headers:
                body = await self._read(receive)  # no body is coming (HTTP/1.1): nothing to wait for
            else:
                body = await asyncio.wait_for(self._read(receive), self.timeout)
        except asyncio.TimeoutError:
            # The connection is closed after the answer: the rest of the body may still be on its way.
            closing = [(b"connection", b"close")]
            await reply(send, 408, f"the request body did not arrive within {self.timeout:g} seconds", closing)
            return
        except _TooLarge:
            await reply(send, 413, f"the request body must be at most {self.max_bytes} bytes")
            return
        if body is None:
            return  # the client went away before its body arrived: nobody to answer
        visible = (
            scope.get("path", ""),
            unquote_plus(scope.get("query_string", b"").decode("latin-1")),
            headers.get(b"idempotency-key", b"").decode("latin-1"),
            body.decode("utf-8", "replace"),
        )
        if any(contains_pan(part) for part in visible):
            await reply(send, 422, CARD_REFUSED)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)

    async def _read(self, receive: Any) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                raise _TooLarge
            more = bool(message.get("more_body", False))
        return b"".join(chunks)


class _TooLarge(Exception):
    """The streamed body passed the size limit."""


async def reply(send: Any, status: int, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """Answer with a small JSON body ``{"detail": ...}`` (and close nothing: the server decides that)."""
    body = json.dumps({"detail": detail}).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})
