"""Settings of the billing app, read from the environment when asked for (never at import time)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_ACCESS_TOKEN_TTL = 15 * 60
DEFAULT_RESET_TOKEN_TTL = 30 * 60
DEFAULT_POOL_SIZE = 10
DEFAULT_QUEUE_WAIT_MS = 2000
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_HEADER_TIMEOUT_SECONDS = 10
DEFAULT_BODY_TIMEOUT_SECONDS = 10
DEFAULT_CATALOGUE_TTL_SECONDS = 30
DEFAULT_MAIL_MAX_ATTEMPTS = 20
DEFAULT_MAIL_RETRY_SECONDS = 5


@dataclass(frozen=True)
class AppSettings:
    """What the app needs from its environment."""

    database_url: str | None = None
    jwt_secret: str | None = None
    access_token_ttl_seconds: int = DEFAULT_ACCESS_TOKEN_TTL
    reset_token_ttl_seconds: int = DEFAULT_RESET_TOKEN_TTL
    admin_password: str | None = None
    # Connections kept open (as many again may be opened under load); the API admits that many requests at once.
    pool_size: int = DEFAULT_POOL_SIZE
    # The queue's deadline: a request that would wait longer than this for a slot is answered 503 at once.
    queue_wait_ms: int = DEFAULT_QUEUE_WAIT_MS
    # Where the workers share a generated signing secret when BILLING_JWT_SECRET is not set.
    jwt_secret_file: str | None = None
    # Request bodies above this size are refused with 413 before anything parses them.
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Multiplies every throttle limit: for many users behind one address (a NAT, a test suite).
    throttle_factor: int = 1
    # Peers whose X-Forwarded-For is believed (addresses or networks); none by default.
    trusted_proxies: tuple[str, ...] = ()
    # A connection that has not sent a whole request head in this time is closed (the server's own limit).
    header_timeout_seconds: int = DEFAULT_HEADER_TIMEOUT_SECONDS
    # A request whose body has not fully arrived in this time is answered 408, before it costs a slot.
    body_timeout_seconds: int = DEFAULT_BODY_TIMEOUT_SECONDS
    # How long a worker serves the catalogue from memory before reading it again.
    catalogue_ttl_seconds: int = DEFAULT_CATALOGUE_TTL_SECONDS
    # Delivery attempts of one mail before it is marked failed, and the first pause between them (it doubles,
    # up to ten minutes: 20 attempts from 5 s span about two hours).
    mail_max_attempts: int = DEFAULT_MAIL_MAX_ATTEMPTS
    mail_retry_seconds: int = DEFAULT_MAIL_RETRY_SECONDS


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = [part.strip() for part in env.get(name, "").split(",") if part.strip()]
    for part in raw:
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise ValueError(f"{name} must list IP addresses or networks (a,b/24), got {part!r}") from None
    return tuple(raw)


def load_settings(env: Mapping[str, str] | None = None) -> AppSettings:
    """Read DATABASE_URL, BILLING_JWT_SECRET(_FILE), the TTLs, BILLING_ADMIN_PASSWORD, the limits and proxies now."""
    source = os.environ if env is None else env
    return AppSettings(
        database_url=source.get("DATABASE_URL") or None,
        jwt_secret=source.get("BILLING_JWT_SECRET") or None,
        access_token_ttl_seconds=_int(source, "BILLING_ACCESS_TOKEN_TTL_SECONDS", DEFAULT_ACCESS_TOKEN_TTL),
        reset_token_ttl_seconds=_int(source, "BILLING_RESET_TOKEN_TTL_SECONDS", DEFAULT_RESET_TOKEN_TTL),
        admin_password=source.get("BILLING_ADMIN_PASSWORD") or None,
        pool_size=_int(source, "BILLING_DB_POOL_SIZE", DEFAULT_POOL_SIZE),
        queue_wait_ms=_int(source, "BILLING_QUEUE_WAIT_MS", DEFAULT_QUEUE_WAIT_MS),
        jwt_secret_file=source.get("BILLING_JWT_SECRET_FILE") or None,
        max_body_bytes=_int(source, "BILLING_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES),
        throttle_factor=_int(source, "BILLING_THROTTLE_FACTOR", 1),
        trusted_proxies=_networks(source, "BILLING_TRUSTED_PROXIES"),
        header_timeout_seconds=_int(source, "BILLING_HEADER_TIMEOUT_SECONDS", DEFAULT_HEADER_TIMEOUT_SECONDS),
        body_timeout_seconds=_int(source, "BILLING_BODY_TIMEOUT_SECONDS", DEFAULT_BODY_TIMEOUT_SECONDS),
        catalogue_ttl_seconds=_int(source, "BILLING_CATALOGUE_TTL_SECONDS", DEFAULT_CATALOGUE_TTL_SECONDS),
        mail_max_attempts=_int(source, "BILLING_MAIL_MAX_ATTEMPTS", DEFAULT_MAIL_MAX_ATTEMPTS),
        mail_retry_seconds=_int(source, "BILLING_MAIL_RETRY_SECONDS", DEFAULT_MAIL_RETRY_SECONDS),
    )


def sqlalchemy_url(url: str) -> str:
    """The URL with the psycopg 3 driver: ``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://``."""
    text = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix) :]
    if text.startswith("postgresql+psycopg://"):
        return text
    raise ValueError("the billing app needs a PostgreSQL URL (postgresql://...)")
