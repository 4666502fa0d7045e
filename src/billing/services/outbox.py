"""The mail outbox: mails are rows written with the change that causes them; a sender delivers them with retries.

A request only inserts a row (kind and recipient) in its own transaction, so a mail exists exactly
when the change does. The sender claims one due row at a time (``FOR UPDATE SKIP LOCKED`` and a
lease, so any number of workers and ``invoke mail.send`` can run together), writes the text (for a
password reset it issues the token then: the raw token lives only in the mail, never in a table),
sends it with no transaction open, and marks it sent. A failure leaves the row pending with a
growing pause; after ``max_attempts`` it is marked failed (logged, without its text).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from billing.models import MailOutbox, MailStatus, User
from billing.services import password_reset
from billing.services.mail import (
    Mailer,
    MailMessage,
    already_registered_message,
    password_reset_message,
    welcome_message,
)

log = logging.getLogger("billing.mail")

WELCOME = "welcome"
ALREADY_REGISTERED = "already_registered"
PASSWORD_RESET = "password_reset"
KINDS = (WELCOME, ALREADY_REGISTERED, PASSWORD_RESET)
# The pause between attempts doubles from the first one up to this.
MAX_PAUSE_SECONDS = 10 * 60
ERROR_LIMIT = 300
# How long a claimed mail is left alone while it is being sent (longer than an SMTP session's timeouts).
LEASE_SECONDS = 120


def enqueue(session: Session, kind: str, email: str, ip: str | None = None) -> int | None:
    """Queue a ``kind`` mail to the active account with this email (one statement either way); its id or None."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    row = sa.select(
        User.id, sa.literal(kind, sa.String(32)), User.email, sa.literal(password_reset.valid_ip(ip), postgresql.INET)
    ).where(User.email == email, User.is_active.is_(True))
    stmt = (
        sa.insert(MailOutbox)
        .from_select(["user_id", "kind", "recipient", "requested_ip"], row)
        .returning(MailOutbox.id)
    )
    return session.execute(stmt).scalar_one_or_none()


def pause(attempts: int, first: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: ``first``, doubling, at most ten minutes."""
    return min(MAX_PAUSE_SECONDS, first << min(attempts - 1, 20))


@dataclass(frozen=True)
class Sender:
    """Delivers due outbox rows through ``mailer``."""

    sessions: sessionmaker[Session]
    mailer: Mailer
    reset_ttl_seconds: int
    first_pause_seconds: int = 5
    max_attempts: int = 20

    def deliver(self) -> int:
        """Deliver every due mail; how many went out."""
        sent = 0
        while True:
            claimed = self._claim()
            if claimed is None:
                return sent
            mail_id, message = claimed
            try:
                if message is not None:
                    self.mailer.send(message)
            except (smtplib.SMTPException, OSError) as exc:
                self._settle(mail_id, f"{type(exc).__name__}: {exc}")
                continue
            self._settle(mail_id, None)
            sent += 1

    def _claim(self) -> tuple[int, MailMessage | None] | None:
        """Take one due mail for ``LEASE_SECONDS`` and write its text (issuing a reset token); None when none is due.

        Committed before the mail is sent, so no lock or connection is held while the SMTP server
        takes its time; a sender that dies mid-way leaves the mail to be tried again after the lease.
        """
        with self.sessions() as session:
            stmt = (
                sa.select(MailOutbox)
                .where(MailOutbox.status == MailStatus.PENDING, MailOutbox.next_attempt_at <= sa.func.now())
                .order_by(MailOutbox.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            mail = session.scalars(stmt).first()
            if mail is None:
                return None
            mail.attempts += 1
            mail.next_attempt_at = datetime.now(timezone.utc) + timedelta(seconds=LEASE_SECONDS)
            message = self._compose(session, mail)
            session.commit()
            return mail.id, message

    def _settle(self, mail_id: int, error: str | None) -> None:
        """Mark the mail sent, or record the failure and when to try again (failed for good after the last attempt)."""
        with self.sessions() as session:
            mail = session.get_one(MailOutbox, mail_id, with_for_update=True)
            if error is None:
                mail.status, mail.sent_at, mail.last_error = MailStatus.SENT, datetime.now(timezone.utc), None
            else:
                self._failed(mail, error)
            session.commit()

    def _compose(self, session: Session, mail: MailOutbox) -> MailMessage | None:
        if mail.kind == WELCOME:
            return welcome_message(mail.recipient)
        if mail.kind == ALREADY_REGISTERED:
            return already_registered_message(mail.recipient)
        issued = password_reset.request_reset(session, mail.recipient, self.reset_ttl_seconds, ip=mail.requested_ip)
        if issued is None:
            return None  # the account went away or was disabled since: nothing to send
        return password_reset_message(issued.email, issued.token, self.reset_ttl_seconds)

    def _failed(self, mail: MailOutbox, error: str) -> None:
        mail.last_error = error.splitlines()[0][:ERROR_LIMIT] if error.strip() else "unknown error"
        if mail.attempts >= self.max_attempts:
            mail.status = MailStatus.FAILED
            log.error("gave up on %s mail %d to %s: %s", mail.kind, mail.id, mail.recipient, mail.last_error)
            return
        wait = pause(mail.attempts, self.first_pause_seconds)
        mail.next_attempt_at = datetime.now(timezone.utc) + timedelta(seconds=wait)
        log.warning(
            "%s mail %d not sent (attempt %d, next in %d s): %s",
            mail.kind,
            mail.id,
            mail.attempts,
            wait,
            mail.last_error,
        )


class Courier:
    """One worker's in-process sender: delivers due mail when woken (a request queued one) or every ``interval``."""

    def __init__(self, sender: Sender, interval: float) -> None:
        self.sender = sender
        self.interval = interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop = False

    def wake(self) -> None:
        """Ask for a round now; callable from any thread (a request's), a no-op while the courier is not running."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)

    def stop(self) -> None:
        """End the rounds (from the courier's own loop); ``run`` returns after the current one."""
        self._stop = True
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Deliver rounds until stopped."""
        # Made here, in the loop that runs: an app may be started more than once (a test client per test).
        wake = self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._stop = False
        try:
            while not self._stop:
                wake.clear()
                try:
                    await asyncio.to_thread(self.sender.deliver)
                except SQLAlchemyError as exc:
                    # The database is away for a moment: the mails wait in it; the next round tries again.
                    log.error("could not deliver queued mail: %s", str(exc).splitlines()[0] if str(exc) else exc)
                try:
                    await asyncio.wait_for(wake.wait(), self.interval)
                except asyncio.TimeoutError:
                    pass
        finally:
            self._loop = self._wake = None


def pending(session: Session) -> int:
    """How many mails wait to be sent."""
    return int(session.scalar(sa.select(sa.func.count()).where(MailOutbox.status == MailStatus.PENDING)) or 0)
