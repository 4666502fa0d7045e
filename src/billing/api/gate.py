"""A concurrency gate in front of the app: no more requests inside than there are database connections.

Sync routes run in a thread pool, and a request's session is closed by a thread of that same pool.
Without a gate, a burst larger than the connection pool fills every thread with requests waiting
for a connection while the requests holding one cannot get a thread to give it back: the server
stalls until the pool times out, and every client waits. With the gate, at most ``limit`` requests
are inside (each gets a connection at once) and the others queue, first come first served.

The queue is bounded by time, not by a count: the gate measures how long a request stays inside
(a moving average), so it knows its throughput (``limit`` divided by that time) and how long a
newcomer would wait behind the queue. Only a request that would wait longer than ``deadline``
seconds is answered 503 with Retry-After, at once; a queued request is never shed, and one that
still waits at the deadline (the estimate was wrong) is answered 503 then. Requests the ``exempt``
test picks (reads served from memory) pass without a slot.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from billing.api.edge import reply

Scope = dict[str, Any]
ASGIApp = Any

# Weight of the newest measurement in the moving average of the time a request stays inside.
SMOOTHING = 0.05
# The estimate before anything was measured: a short database request.
FIRST_ESTIMATE = 0.01


class ConcurrencyGate:
    """ASGI middleware admitting ``limit`` requests at once and queueing those served within ``deadline``."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        deadline: float,
        exempt: Callable[[Scope], bool] | None = None,
        retry_after: int = 1,
    ) -> None:
        self.app = app
        self.limit = limit
        self.deadline = deadline
        self.exempt = exempt
        self.retry_after = retry_after
        self.inside = 0
        self.service_time = FIRST_ESTIMATE
        self.waiting: deque[asyncio.Future[bool]] = deque()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Run the request inside the gate, or answer 503 when it could not be served within the deadline."""
        if scope["type"] != "http" or (self.exempt is not None and self.exempt(scope)):
            await self.app(scope, receive, send)
            return
        if not await self._enter():
            await reply(
                send, 503, "the server is busy; retry shortly", [(b"retry-after", str(self.retry_after).encode())]
            )
            return
        started = time.monotonic()
        try:
            await self.app(scope, receive, send)
        finally:
            self.service_time += SMOOTHING * (time.monotonic() - started - self.service_time)
            self._leave()

    def expected_wait(self, queued: int) -> float:
        """Seconds until a request behind ``queued`` others gets in, at the measured throughput."""
        return (queued + 1) * self.service_time / self.limit

    async def _enter(self) -> bool:
        if self.inside < self.limit and not self.waiting:
            self.inside += 1
            return True
        if self.expected_wait(len(self.waiting)) > self.deadline:
            return False
        loop = asyncio.get_running_loop()
        ticket: asyncio.Future[bool] = loop.create_future()
        self.waiting.append(ticket)
        timer = loop.call_later(self.deadline, self._expire, ticket)
        try:
            return await ticket
        except asyncio.CancelledError:
            # The client went away while waiting; a slot already handed over must be given back.
            if ticket.done() and not ticket.cancelled() and ticket.result():
                self._leave()
            else:
                self._forget(ticket)
            raise
        finally:
            timer.cancel()

    def _forget(self, ticket: asyncio.Future[bool]) -> None:
        try:
            self.waiting.remove(ticket)
        except ValueError:
            pass

    def _expire(self, ticket: asyncio.Future[bool]) -> None:
        if not ticket.done():
            ticket.set_result(False)
            self._forget(ticket)

    def _leave(self) -> None:
        # Hand the slot to the oldest live waiter (first come, first served); with none, the slot is free again.
        while self.waiting:
            ticket = self.waiting.popleft()
            if not ticket.done():
                ticket.set_result(True)
                return
        self.inside -= 1
