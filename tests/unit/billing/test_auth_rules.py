"""The password policy, the throttle policy, mailer selection and token subjects, without a database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest

from billing import passwords, security
from billing.services.mail import ConsoleMailer, FileMailer, MailMessage, SmtpMailer, mailer_from_env
from billing.services.throttle import Limit, ThrottlePolicy

SECRET = "a-unit-test-secret-that-is-long-enough-for-hs256"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1", "at least 10"),
        ("          ", "one character repeated"),
        ("1111111111", "one character repeated"),
        ("Password123", "commonly used"),
        ("QWERTYUIOP", "commonly used"),
        ("x" * 257, "at most 256"),
        ("jane.doe.x", "email address"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, reason: str) -> None:
    problem = passwords.problem(password, "jane.doe.x@example.com")
    assert problem is not None and reason in problem


def test_long_passphrases_and_plain_but_uncommon_passwords_pass() -> None:
    assert passwords.problem("correct horse battery staple") is None
    assert passwords.problem("zq8-lamp-otter") is None
    assert passwords.problem("é" * 9 + "ü") is None  # any Unicode counts, no composition rules


def test_throttle_policy_scales_every_limit() -> None:
    policy = ThrottlePolicy()
    scaled = policy.scaled(10)
    assert set(policy.per_account) == set(policy.per_address) == {"login", "forgot", "reset", "signup"}
    for action, limit in policy.per_account.items():
        assert scaled.per_account[action] == Limit(limit.attempts * 10, limit.window_seconds)


def test_mailer_from_env(tmp_path: Path) -> None:
    smtp = mailer_from_env({"BILLING_SMTP_HOST": "mail.example.com", "BILLING_SMTP_STARTTLS": "no"})
    assert smtp == SmtpMailer(host="mail.example.com", port=587, starttls=False)
    with pytest.raises(ValueError, match="BILLING_SMTP_PORT"):
        mailer_from_env({"BILLING_SMTP_HOST": "h", "BILLING_SMTP_PORT": "smtp"})
    files = mailer_from_env({"BILLING_MAIL_DIR": str(tmp_path)})
    assert isinstance(files, FileMailer)
    files.send(MailMessage(to="a@example.com", subject="s", body="b", token="t"))
    assert '"token": "t"' in next(tmp_path.glob("*.json")).read_text()
    assert isinstance(mailer_from_env({}), ConsoleMailer)


@pytest.mark.parametrize("subject", ["99999999999999999999", "9223372036854775808", "0", "-1", "1e3", " 7", "٣"])
def test_a_signed_token_whose_subject_is_no_bigint_id_is_invalid(subject: str) -> None:
    now = datetime.now(timezone.utc)
    token = jwt.encode({"sub": subject, "type": "access", "iat": now, "exp": now + timedelta(minutes=1)}, SECRET)
    with pytest.raises(security.InvalidAccessToken):
        security.decode_access_claims(token, SECRET)


def test_the_password_fingerprint_follows_the_hash() -> None:
    first = security.password_fingerprint("$argon2id$one", SECRET)
    assert first == security.password_fingerprint("$argon2id$one", SECRET)
    assert first != security.password_fingerprint("$argon2id$two", SECRET)
    token = security.create_access_token(9223372036854775807, SECRET, 60, fingerprint=first)
    assert security.decode_access_claims(token, SECRET) == (9223372036854775807, first)
