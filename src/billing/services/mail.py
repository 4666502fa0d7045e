"""Mailers: SMTP for real delivery, a file or console mailer for development, an in-memory one for tests.

What is sent and when is the outbox's business (billing.services.outbox); a mailer only delivers.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger("billing.mail")

FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


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

    def wait_for(self, email: str, subject: str | None = None, count: int = 1, timeout: float = 10.0) -> MailMessage:
        """The newest message to ``email`` (with ``subject``) once there are ``count``; else TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [m for m in self.outbox if m.to == email.lower() and subject in (None, m.subject)]
            if len(found) >= count:
                return found[-1]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} mails to {email} arrived within {timeout:g} s")
            time.sleep(0.01)

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

    def check(self) -> None:
        """At start-up: RuntimeError when the server is up but the TLS setting cannot work with it.

        An unreachable server is only logged: the outbox keeps the mail until it is back.
        """
        where = f"the SMTP server at {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if not self.starttls:
                    return
                if not smtp.has_extn("starttls"):
                    raise RuntimeError(
                        f"BILLING_SMTP_STARTTLS is on but {where} offers no STARTTLS: set BILLING_SMTP_STARTTLS=0 "
                        "for a server without TLS, or give it a certificate"
                    )
                smtp.starttls(context=ssl.create_default_context())
        except ssl.SSLError as exc:
            raise RuntimeError(f"TLS with {where} failed ({exc.reason or exc}): fix its certificate") from None
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("%s cannot be reached now (%s); mail waits in the outbox until it can", where, exc)

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
        flag = env.get("BILLING_SMTP_STARTTLS", "1").strip().lower()
        if flag not in FLAGS:
            raise ValueError(f"BILLING_SMTP_STARTTLS must be 1 or 0 (true/false, yes/no, on/off), got {flag!r}")
        return SmtpMailer(
            host=host,
            port=int(port_text),
            sender=env.get("BILLING_MAIL_FROM", "").strip() or "billing@localhost",
            user=env.get("BILLING_SMTP_USER") or None,
            password=env.get("BILLING_SMTP_PASSWORD") or None,
            starttls=FLAGS[flag],
        )
    directory = env.get("BILLING_MAIL_DIR", "").strip()
    if directory:
        return FileMailer(Path(directory))
    return ConsoleMailer()


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
