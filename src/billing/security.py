"""Password hashing (argon2), JWT access tokens (PyJWT) and one-time token helpers."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"
# Ids are PostgreSQL bigints; a subject outside that range names nobody.
MAX_ID = 2**63 - 1

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 50 ms here, against about 250 ms for
# argon2-cffi's default on these 2-core machines; hashes made with either verify under both.
STRONG_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# argon2 at its cheapest (8 KiB, 1 pass) for an app that stores only throwaway accounts: the test suite
# and the smoke, which sign up dozens of users each. Never the default: only create_app(password_hasher=...).
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified against when the email is unknown, so a login takes as long either way."""
    return hasher.hash(secrets.token_urlsafe(16))


class InvalidAccessToken(Exception):
    """The access token is malformed, forged, expired or of the wrong type."""


def hash_password(password: str, hasher: PasswordHasher = STRONG_HASHER) -> str:
    """An argon2id hash of the password, with its own salt and parameters."""
    return hasher.hash(password)


def verify_password(password_hash: str | None, password: str, hasher: PasswordHasher = STRONG_HASHER) -> bool:
    """True when the password matches the hash; a missing hash still costs one verification."""
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, hasher: PasswordHasher = STRONG_HASHER) -> bool:
    """True when the hash is weaker than the hasher's parameters; a stronger hash is never rehashed down."""
    try:
        stored = extract_parameters(password_hash)
    except InvalidHashError:
        return True
    return (
        stored.type is not hasher.type
        or stored.time_cost < hasher.time_cost
        or stored.memory_cost < hasher.memory_cost
        or stored.hash_len < hasher.hash_len
        or stored.salt_len < hasher.salt_len
    )


def new_secret() -> str:
    """A fresh random secret for signing tokens."""
    return secrets.token_urlsafe(48)


def password_fingerprint(password_hash: str, secret: str) -> str:
    """A keyed digest of the stored password hash: it changes whenever the password does.

    Access tokens carry it and every request compares it with the user's current hash, so a password
    change or reset ends every session at once without a server-side session store.
    """
    return hmac.new(secret.encode(), password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def create_access_token(
    user_id: int, secret: str, ttl_seconds: int, now: datetime | None = None, fingerprint: str = ""
) -> str:
    """A signed HS256 JWT naming the user (``sub``) and their password fingerprint, expiring after ``ttl_seconds``."""
    issued = now or datetime.now(timezone.utc)
    claims = {
        "sub": str(user_id),
        "pwd": fingerprint,
        "type": ACCESS_TOKEN_TYPE,
        "iat": issued,
        "exp": issued + timedelta(seconds=ttl_seconds),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> int:
    """The user id in a valid access token, or InvalidAccessToken."""
    return decode_access_claims(token, secret)[0]


def decode_access_claims(token: str, secret: str) -> tuple[int, str]:
    """The user id and password fingerprint in a valid access token, or InvalidAccessToken."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidAccessToken(str(exc)) from None
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise InvalidAccessToken("not an access token")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isascii() or not subject.isdigit() or len(subject) > 19:
        raise InvalidAccessToken("malformed subject")
    user_id = int(subject)
    if not 1 <= user_id <= MAX_ID:
        raise InvalidAccessToken("malformed subject")
    fingerprint = claims.get("pwd", "")
    return user_id, fingerprint if isinstance(fingerprint, str) else ""


def new_one_time_token() -> str:
    """A random URL-safe token to mail to a user (only its hash is stored)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 of a one-time token, as stored in the database."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
