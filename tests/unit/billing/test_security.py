"""billing.security: password hashes, access tokens and one-time tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from billing import security

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


def test_a_served_app_hashes_with_the_strong_parameters_and_test_hashes_do_not_pass_for_them() -> None:
    from billing.api.app import create_app

    # Building the app opens no connection: the URL only has to parse.
    app = create_app("postgresql://nobody@127.0.0.1:1/none", secret=SECRET)
    assert app.state.password_hasher is security.STRONG_HASHER
    params = security.STRONG_HASHER
    assert (params.time_cost, params.memory_cost, params.parallelism) == (2, 19456, 1)  # OWASP's argon2id baseline

    cheap = security.hash_password("correct horse battery", security.TEST_HASHER)
    # Either verifies the other's hashes (the parameters live in the hash), and a served app upgrades a cheap one.
    assert security.verify_password(cheap, "correct horse battery") is True
    assert security.needs_rehash(cheap) is True
    assert security.needs_rehash(security.hash_password("x")) is False
    # An app with the cheap hasher never rehashes a real account's strong hash down to its parameters.
    assert security.needs_rehash(security.hash_password("x"), security.TEST_HASHER) is False
    assert security.needs_rehash(cheap, security.TEST_HASHER) is False
