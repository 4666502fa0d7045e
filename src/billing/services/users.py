"""Accounts: registration, login and lookup."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import security
from billing.models import User
from billing.services.errors import AuthenticationFailed, Conflict, InvalidRequest, NotFound

MIN_PASSWORD_LENGTH = 10


def normalize_email(email: str) -> str:
    """The canonical (trimmed, lowercase) form of an email address."""
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short to be worth hashing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def register(session: Session, email: str, password: str, full_name: str | None = None) -> User:
    """Create an active user with an argon2 password hash; a taken email is a Conflict."""
    check_password_strength(password)
    address = normalize_email(email)
    user = User(email=address, password_hash=security.hash_password(password), full_name=full_name)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        raise Conflict("an account with this email already exists") from None
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The active user with these credentials, or AuthenticationFailed (same error for every cause)."""
    user = find_by_email(session, email)
    ok = security.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise AuthenticationFailed("invalid email or password")
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
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
