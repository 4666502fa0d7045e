"""Accounts: registration, login and lookup."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import passwords, security
from billing.models import User
from billing.services import rbac
from billing.services.errors import AuthenticationFailed, InvalidRequest, NotFound

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH
# Every new account holds this seeded role; what a customer may do is what it grants (deny by default).
DEFAULT_ROLE = "member"


def normalize_email(email: str) -> str:
    """The canonical (trimmed, lowercase) form of an email address."""
    return email.strip().lower()


def check_password_strength(password: str, email: str | None = None) -> None:
    """Refuse passwords the policy (billing.passwords) does not accept."""
    reason = passwords.problem(password, email)
    if reason is not None:
        raise InvalidRequest(reason)


def register(
    session: Session,
    email: str,
    password: str,
    full_name: str | None = None,
    hasher: PasswordHasher = security.STRONG_HASHER,
) -> User | None:
    """Create an active user (argon2 hash, the default role); None when the email is taken.

    The password is hashed either way, so a taken address costs the same work as a free one.
    """
    check_password_strength(password, email)
    address = normalize_email(email)
    user = User(email=address, password_hash=security.hash_password(password, hasher), full_name=full_name)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        return None
    try:
        rbac.grant_role(session, user.id, DEFAULT_ROLE)
    except NotFound:
        raise RuntimeError(f"the role {DEFAULT_ROLE!r} is missing: load the reference data (invoke seed)") from None
    return user


def authenticate(session: Session, email: str, password: str, hasher: PasswordHasher = security.STRONG_HASHER) -> User:
    """The active user with these credentials, or AuthenticationFailed (same error for every cause)."""
    user = find_by_email(session, email)
    ok = security.verify_password(user.password_hash if user else None, password, hasher)
    if user is None or not ok or not user.is_active:
        raise AuthenticationFailed("invalid email or password")
    if security.needs_rehash(user.password_hash, hasher):
        user.password_hash = security.hash_password(password, hasher)
    user.last_login_at = datetime.now(timezone.utc)
    return user


def find_by_email(session: Session, email: str) -> User | None:
    """The user with this email (case-insensitive), if any."""
    return session.scalars(sa.select(User).where(User.email == normalize_email(email))).one_or_none()


def get_user(session: Session, user_id: int) -> User:
    """The user with this id, or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


def get_active_user(session: Session, user_id: int) -> User:
    """The active user with this id, or AuthenticationFailed (for token holders whose account went away)."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed("the account does not exist or is disabled")
    return user
