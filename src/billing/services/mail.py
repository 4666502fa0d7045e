"""Outgoing mail: a pluggable mailer; the default keeps messages in an in-memory outbox."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class MailMessage:
    """One message to one recipient; ``token`` carries a one-time token when the message has one."""

    to: str
    subject: str
    body: str
    token: str | None = None


class Mailer(Protocol):
    """Anything that can deliver a MailMessage."""

    def send(self, message: MailMessage) -> None:
        """Deliver the message (or queue it)."""


class InMemoryMailer:
    """A mailer that appends every message to ``outbox`` (for development and tests)."""

    def __init__(self) -> None:
        self.outbox: list[MailMessage] = []
        self._lock = threading.Lock()

    def send(self, message: MailMessage) -> None:
        """Append the message to the outbox."""
        with self._lock:
            self.outbox.append(message)

    def last_to(self, email: str) -> MailMessage | None:
        """The newest message sent to ``email``, if any."""
        with self._lock:
            for message in reversed(self.outbox):
                if message.to == email.lower():
                    return message
        return None


def password_reset_message(email: str, token: str, ttl_seconds: int) -> MailMessage:
    """The message that carries a password reset token."""
    minutes = max(1, ttl_seconds // 60)
    body = (
        "Someone asked to reset the password of your account.\n"
        f"Use this token within {minutes} minutes to choose a new password:\n\n{token}\n\n"
        "If it was not you, ignore this message."
    )
    return MailMessage(to=email, subject="Reset your password", body=body, token=token)
