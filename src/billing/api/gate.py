"""A concurrency gate in front of the app: no more requests inside than there are database connections.

Sync routes run in a thread pool, and a request's session is closed by a thread of that same pool.
Without a gate, a burst larger than the connection pool fills every thread with requests waiting
for a connection while the requests holding one cannot get a thread to give it back: the server
stalls until the pool times out, and every client waits. With the gate, at most ``limit`` requests
are inside (each gets a connection at once); a few more wait, newest first, for at most
``max_wait`` seconds (under overload the newest request is the one whose client is still
listening, and a newcomer is not stuck behind the burst); everything else gets an immediate 503
with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Any

BUSY_BODY = json.dumps({"detail": "the server is busy; retry shortly"}).encode()


class ConcurrencyGate:
    """ASGI middleware admitting ``limit`` requests at once, ``max_waiting`` more for ``max_wait`` seconds."""

    def __init__(self, app: ASGIApp, limit: int, max_waiting: int, max_wait: float = 1.0, retry_after: int = 1) -> None:
        self.app = app
        self.limit = limit
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        self.retry_after = retry_after
        self.inside = 0
        self.waiting: deque[asyncio.Future[bool]] = deque()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Run the request inside the gate, or answer 503 at once when it cannot get in."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not await self._enter():
            await self._busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._leave()

    async def _enter(self) -> bool:
        if self.inside < self.limit and not self.waiting:
            self.inside += 1
            return True
        if self.max_waiting <= 0:
            return False
        if len(self.waiting) >= self.max_waiting:
            # The oldest waiter has waited longest and is the likeliest to have given up: it is the one shed.
            oldest = self.waiting.popleft()
            if not oldest.done():
                oldest.set_result(False)
        loop = asyncio.get_running_loop()
        ticket: asyncio.Future[bool] = loop.create_future()
        self.waiting.append(ticket)
        timer = loop.call_later(self.max_wait, self._expire, ticket)
        try:
            return await ticket
        except asyncio.CancelledError:
            # The client went away while waiting; a slot already handed over must be given back.
            if ticket.done() and not ticket.cancelled() and ticket.result():
                self._leave()
            raise
        finally:
            timer.cancel()

    def _expire(self, ticket: asyncio.Future[bool]) -> None:
        if not ticket.done():
            ticket.set_result(False)
            try:
                self.waiting.remove(ticket)
            except ValueError:
                pass

    def _leave(self) -> None:
        # Hand the slot to the newest live waiter (LIFO); with none, the slot is free again.
        while self.waiting:
            ticket = self.waiting.pop()
            if not ticket.done():
                ticket.set_result(True)
                return
        self.inside -= 1

    async def _busy(self, send: Any) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(BUSY_BODY)).encode()),
            (b"retry-after", str(self.retry_after).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": BUSY_BODY})
