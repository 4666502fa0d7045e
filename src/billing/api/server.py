"""Serving the API: uvicorn with a request-head timeout, no proxy headers of its own, and card numbers kept out of logs.

``python -m billing.api.server --host 0.0.0.0 --port 8000 [--workers N]`` is how the Dockerfile and
``invoke api`` run it. uvicorn's own X-Forwarded-For handling is off (by default it believes any
peer at 127.0.0.1); the app believes the header only from BILLING_TRUSTED_PROXIES.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from typing import Any
from urllib.parse import unquote_plus

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from billing.cards import contains_pan, mask_pans
from billing.settings import DEFAULT_HEADER_TIMEOUT_SECONDS, load_settings

# A request head (request line and headers) larger than this is refused by h11 with 400.
MAX_HEAD_BYTES = 16 * 1024
KEEP_ALIVE_SECONDS = 5


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head does not arrive in time.

    uvicorn limits only the idle time between requests; a client sending its headers one byte at a
    time would otherwise hold the connection for ever. The timer runs from the connection's start
    (and from the end of each response) until the head is complete; the body has its own limit
    (``billing.api.edge.BodyReader``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timer: asyncio.TimerHandle | None = None
        self.head_timeout = float(
            os.environ.get("BILLING_HEADER_TIMEOUT_SECONDS", "").strip() or DEFAULT_HEADER_TIMEOUT_SECONDS
        )

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the head timer with the connection."""
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Stop the head timer once h11 has a whole request head."""
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def on_response_complete(self) -> None:
        """The next request's head has the same time to arrive."""
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """No timer outlives its connection."""
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def _masked(text: str) -> str:
    # A logged path carries its query as sent ("4242+4242..." or "%20"): read it decoded when it hides a card.
    decoded = unquote_plus(text)
    return mask_pans(decoded) if contains_pan(decoded) else text


class MaskCardNumbers(logging.Filter):
    """A log filter that replaces anything looking like a card number in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask, and keep the record."""
        if isinstance(record.msg, str):
            record.msg = _masked(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) if isinstance(a, str) else a for a in record.args)
        return True


def mask_card_numbers_in_logs(names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error", "billing")) -> None:
    """Put MaskCardNumbers on these loggers (once each): an access log line carries the path and query."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskCardNumbers) for f in logger.filters):
            logger.addFilter(MaskCardNumbers())


def serve(host: str, port: int, workers: int = 1) -> None:
    """Run the API with uvicorn: head and keep-alive timeouts, head size limit, no proxy headers."""
    import uvicorn

    load_settings()  # a bad setting stops here, with its one-line message, before any worker starts
    uvicorn.run(
        "billing.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="billing.api.server:TimedH11Protocol",
        proxy_headers=False,
        forwarded_allow_ips="",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        server_header=False,
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: --host, --port, --workers."""
    parser = argparse.ArgumentParser(prog="python -m billing.api.server", description="Serve the billing API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.workers)


if __name__ == "__main__":
    main()
