"""Outgoing mail: SMTP for real delivery, a file or console mailer for development, an in-memory outbox for tests."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger("billing.mail")


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
    """A mailer that appends every message to ``outbox`` (tests only: nobody can read it from outside)."""

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


@dataclass(frozen=True)
class SmtpMailer:
    """Delivers through an SMTP server (STARTTLS when asked, login when a user is given)."""

    host: str
    port: int = 587
    sender: str = "billing@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    timeout: float = 10.0

    def send(self, message: MailMessage) -> None:
        """Send the message in one SMTP session."""
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(email)


@dataclass(frozen=True)
class FileMailer:
    """Development: writes each message as a JSON file into ``directory`` (one file per message)."""

    directory: Path

    def send(self, message: MailMessage) -> None:
        """Write the message to ``<directory>/<uuid>.json``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{uuid.uuid4().hex}.json").write_text(json.dumps(asdict(message), indent=2))


class ConsoleMailer:
    """Development: logs each message (to stderr by default), so a developer can read the reset token."""

    def send(self, message: MailMessage) -> None:
        """Log the message at WARNING level so it shows with uvicorn's default logging."""
        log.warning("mail to %s: %s\n%s", message.to, message.subject, message.body)


def mailer_from_env(env: Mapping[str, str]) -> Mailer:
    """SMTP when BILLING_SMTP_HOST is set, else files in BILLING_MAIL_DIR when set, else the console."""
    host = env.get("BILLING_SMTP_HOST", "").strip()
    if host:
        port_text = env.get("BILLING_SMTP_PORT", "").strip() or "587"
        if not port_text.isdigit():
            raise ValueError(f"BILLING_SMTP_PORT must be a port number, got {port_text!r}")
        starttls = env.get("BILLING_SMTP_STARTTLS", "1").strip().lower() not in ("0", "false", "no", "off")
        return SmtpMailer(
            host=host,
            port=int(port_text),
            sender=env.get("BILLING_MAIL_FROM", "").strip() or "billing@localhost",
            user=env.get("BILLING_SMTP_USER") or None,
            password=env.get("BILLING_SMTP_PASSWORD") or None,
            starttls=starttls,
        )
    directory = env.get("BILLING_MAIL_DIR", "").strip()
    if directory:
        return FileMailer(Path(directory))
    return ConsoleMailer()


def deliver(mailer: Mailer, message: MailMessage) -> None:
    """Send after the reply went out; a failure is logged (never the body), not shown to the client."""
    try:
        mailer.send(message)
    except Exception as exc:  # noqa: BLE001 - a broken mail server must not turn into a 500 or a retry loop
        log.error("could not send %r to %s: %s", message.subject, message.to, exc)


def password_reset_message(email: str, token: str, ttl_seconds: int) -> MailMessage:
    """The message that carries a password reset token."""
    minutes = max(1, ttl_seconds // 60)
    body = (
        "Someone asked to reset the password of your account.\n"
        f"Use this token within {minutes} minutes to choose a new password:\n\n{token}\n\n"
        "If it was not you, ignore this message."
    )
    return MailMessage(to=email, subject="Reset your password", body=body, token=token)


def welcome_message(email: str) -> MailMessage:
    """The message a new account gets."""
    return MailMessage(to=email, subject="Welcome", body="Your account is ready; you can log in now.")


def already_registered_message(email: str) -> MailMessage:
    """The message the owner of an address gets when someone tries to sign up with it again."""
    body = (
        "Someone tried to create an account with this address, which already has one.\n"
        "If it was you, log in or reset your password. If not, you can ignore this message."
    )
    return MailMessage(to=email, subject="You already have an account", body=body)
