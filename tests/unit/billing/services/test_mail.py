"""billing.services.mail: choosing a mailer from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from billing.services.mail import ConsoleMailer, FileMailer, MailMessage, SmtpMailer, mailer_from_env


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


def test_an_unclear_starttls_setting_is_refused() -> None:
    assert mailer_from_env({"BILLING_SMTP_HOST": "h"}) == SmtpMailer(host="h", starttls=True)
    with pytest.raises(ValueError, match="BILLING_SMTP_STARTTLS must be 1 or 0"):
        mailer_from_env({"BILLING_SMTP_HOST": "h", "BILLING_SMTP_STARTTLS": "maybe"})
