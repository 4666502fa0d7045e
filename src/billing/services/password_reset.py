"""Password reset: hashed, single-use, expiring tokens bound to one user."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from billing import security
from billing.models import PasswordResetToken, User
from billing.services.errors import InvalidRequest
from billing.services.users import check_password_strength, normalize_email

INVALID_TOKEN = "invalid or expired reset token"


@dataclass(frozen=True)
class IssuedResetToken:
    """A freshly issued token: the raw value goes to the user's mailbox, never into the database."""

    email: str
    token: str
    expires_at: datetime


def valid_ip(ip: str | None) -> str | None:
    """The address in canonical form, or None for anything that is not an IP address (a test client's name)."""
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return None


def request_reset(
    session: Session, email: str, ttl_seconds: int, ip: str | None = None, now: datetime | None = None
) -> IssuedResetToken | None:
    """Store the hash of a new token for an active user with this email; None when there is no such user.

    One statement does the lookup and the insert, and a token is made either way, so a known and an
    unknown address cost the same work (no timing oracle for which emails have accounts).
    """
    issued = now or datetime.now(timezone.utc)
    raw = security.new_one_time_token()
    expires = issued + timedelta(seconds=ttl_seconds)
    row = sa.select(
        User.id,
        sa.literal(security.hash_token(raw)),
        sa.literal(valid_ip(ip), postgresql.INET),
        sa.literal(issued, sa.DateTime(timezone=True)),
        sa.literal(expires, sa.DateTime(timezone=True)),
    ).where(User.email == normalize_email(email), User.is_active.is_(True))
    stmt = (
        sa.insert(PasswordResetToken)
        .from_select(["user_id", "token_hash", "requested_ip", "created_at", "expires_at"], row)
        .returning(PasswordResetToken.user_id)
    )
    if session.execute(stmt).scalar_one_or_none() is None:
        return None
    return IssuedResetToken(email=normalize_email(email), token=raw, expires_at=expires)


def reset_password(
    session: Session, email: str, token: str, new_password: str, hasher: PasswordHasher = security.STRONG_HASHER
) -> User:
    """Consume the token (atomically: unused, unexpired, this user's) and set the new password."""
    check_password_strength(new_password, email)
    user_ids = sa.select(User.id).where(User.email == normalize_email(email), User.is_active.is_(True))
    consume = (
        sa.update(PasswordResetToken)
        .where(
            PasswordResetToken.token_hash == security.hash_token(token),
            PasswordResetToken.user_id == user_ids.scalar_subquery(),
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > sa.func.now(),
        )
        .values(used_at=sa.func.now())
        .returning(PasswordResetToken.user_id)
    )
    user_id = session.execute(consume).scalar_one_or_none()
    if user_id is None:
        raise InvalidRequest(INVALID_TOKEN)
    # Any other outstanding token of this user is void once the password changed.
    session.execute(
        sa.update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=sa.func.now())
    )
    user = session.get_one(User, user_id)
    user.password_hash = security.hash_password(new_password, hasher)
    return user
