"""Security helpers and settings, without a database."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from billing import security
from billing.settings import load_settings, sqlalchemy_url

SECRET = "unit-test-secret-" + "x" * 64


def test_hash_and_verify() -> None:
    hashed = security.hash_password("correct horse battery")

    assert hashed.startswith("$argon2id$")
    assert hashed != security.hash_password("correct horse battery")  # salted
    assert security.verify_password(hashed, "correct horse battery") is True
    assert security.verify_password(hashed, "correct horse battery!") is False
    assert security.verify_password(None, "anything") is False
    assert security.verify_password("not-a-hash", "anything") is False
    assert security.needs_rehash(hashed) is False


def test_access_token_round_trip() -> None:
    token = security.create_access_token(42, SECRET, 60)

    assert security.decode_access_token(token, SECRET) == 42
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["sub"] == "42" and claims["type"] == "access"
    assert claims["exp"] - claims["iat"] == 60


def test_expired_token_is_rejected() -> None:
    issued = datetime.now(timezone.utc) - timedelta(minutes=5)
    token = security.create_access_token(7, SECRET, 60, now=issued)

    with pytest.raises(security.InvalidAccessToken, match="expired"):
        security.decode_access_token(token, SECRET)


@pytest.mark.parametrize(
    "token",
    [
        security.create_access_token(7, "another-secret-that-is-also-32-bytes-long", 60),
        jwt.encode({"sub": "7", "type": "refresh", "iat": 0, "exp": 4102444800}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "7", "type": "access", "iat": 0, "exp": 4102444800}, SECRET, algorithm="HS512"),
        jwt.encode({"sub": "x", "type": "access", "iat": 0, "exp": 4102444800}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "7", "type": "access", "iat": 0}, SECRET, algorithm="HS256"),
        "not.a.token",
    ],
    ids=["wrong-secret", "wrong-type", "wrong-alg", "bad-subject", "no-exp", "garbage"],
)
def test_bad_tokens_are_rejected(token: str) -> None:
    with pytest.raises(security.InvalidAccessToken):
        security.decode_access_token(token, SECRET)


def test_one_time_tokens_are_random_and_stored_as_sha256() -> None:
    a, b = security.new_one_time_token(), security.new_one_time_token()

    assert a != b and len(a) >= 40
    assert security.hash_token("abc") == hashlib.sha256(b"abc").hexdigest()
    assert security.hash_token(a) != a


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
