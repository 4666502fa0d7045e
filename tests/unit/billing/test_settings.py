"""billing.settings: reading settings from the environment and the SQLAlchemy URL."""

from __future__ import annotations

import pytest

from billing.settings import load_settings, sqlalchemy_url


def test_settings_are_read_when_asked() -> None:
    env = {"DATABASE_URL": "postgresql://u:p@h/db", "BILLING_JWT_SECRET": "s", "BILLING_RESET_TOKEN_TTL_SECONDS": "60"}

    settings = load_settings(env)

    assert (settings.database_url, settings.jwt_secret, settings.reset_token_ttl_seconds) == (
        env["DATABASE_URL"],
        "s",
        60,
    )
    assert load_settings({}).jwt_secret is None
    assert load_settings({}).reset_token_ttl_seconds == 30 * 60
    with pytest.raises(ValueError, match="BILLING_ACCESS_TOKEN_TTL_SECONDS"):
        load_settings({"BILLING_ACCESS_TOKEN_TTL_SECONDS": "soon"})


@pytest.mark.parametrize(
    ("given", "wanted"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_sqlalchemy_url(given: str, wanted: str) -> None:
    assert sqlalchemy_url(given) == wanted


def test_sqlalchemy_url_refuses_other_databases() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        sqlalchemy_url("sqlite:///x.db")


def test_trusted_proxies_default_to_none_and_must_be_addresses() -> None:
    assert load_settings({}).trusted_proxies == ()
    listed = load_settings({"BILLING_TRUSTED_PROXIES": " 10.0.0.1, 172.16.0.0/12 ,::1"})
    assert listed.trusted_proxies == ("10.0.0.1", "172.16.0.0/12", "::1")
    with pytest.raises(ValueError, match="BILLING_TRUSTED_PROXIES must list IP addresses"):
        load_settings({"BILLING_TRUSTED_PROXIES": "proxy.internal"})
