"""Authentication: users, their sessions, one-time tokens, API keys, the audit log, throttles and the mail outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from billing.models.base import Base, CreatedAtMixin, IdMixin, TimestampMixin
from billing.models.enums import MAIL_STATUS, MailStatus


def _user_fk(ondelete: str = "CASCADE") -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete=ondelete)


class User(IdMixin, TimestampMixin, Base):
    """A person with an account; emails are stored lowercase and are unique."""

    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("email"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )

    email: Mapped[str] = mapped_column(sa.String(320))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    full_name: Mapped[str | None] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(server_default=sa.true())
    email_verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class UserSession(IdMixin, CreatedAtMixin, Base):
    """A login session; only the hash of its refresh token is stored."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(128))
    user_agent: Mapped[str | None] = mapped_column(sa.String(512))
    ip_address: Mapped[str | None] = mapped_column(postgresql.INET)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="sessions")


class EmailVerificationToken(IdMixin, CreatedAtMixin, Base):
    """A one-time token mailed to confirm an email address."""

    __tablename__ = "email_verification_tokens"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(128))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class PasswordResetToken(IdMixin, CreatedAtMixin, Base):
    """A one-time token mailed to reset a forgotten password."""

    __tablename__ = "password_reset_tokens"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(128))
    requested_ip: Mapped[str | None] = mapped_column(postgresql.INET)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class ApiKey(IdMixin, CreatedAtMixin, Base):
    """A long-lived API credential; the public prefix identifies it, only its hash is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (sa.UniqueConstraint("prefix"), sa.UniqueConstraint("key_hash"))

    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    key_hash: Mapped[str] = mapped_column(sa.String(128))
    last_used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class AuditLog(IdMixin, CreatedAtMixin, Base):
    """Who did what to which entity; kept when the acting user is deleted."""

    __tablename__ = "audit_logs"
    __table_args__ = (
        sa.Index(None, "user_id", "created_at"),
        sa.Index(None, "entity_type", "entity_id"),
    )

    user_id: Mapped[int | None] = mapped_column(_user_fk("SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(100))
    entity_type: Mapped[str] = mapped_column(sa.String(50))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip_address: Mapped[str | None] = mapped_column(postgresql.INET)
    details: Mapped[dict[str, Any]] = mapped_column(postgresql.JSONB, server_default=sa.text("'{}'::jsonb"))


class AuthThrottle(Base):
    """Attempts at one sensitive action by one subject (an account or a client address) in the current window.

    The subject is stored as a SHA-256 hex digest: the table says how often, never who. Past a
    subject's free attempts, ``blocked_until`` says when the next attempt is heard.
    """

    __tablename__ = "auth_throttles"
    __table_args__ = (sa.CheckConstraint("attempts > 0", name="attempts_positive"),)

    action: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    subject_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(sa.Integer)
    blocked_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class MailOutbox(IdMixin, CreatedAtMixin, Base):
    """A mail to send, written in the transaction of the change that causes it; a sender delivers it with retries.

    Only the kind and the recipient are stored: the text is made when it is sent, and a password
    reset token is issued then too, so no usable token ever sits in this table.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_nonnegative"),
        # The sender knows how to write these three; anything else could never be sent.
        sa.CheckConstraint("kind IN ('welcome', 'already_registered', 'password_reset')", name="kind_known"),
        sa.Index(
            "ix_mail_outbox_next_attempt_at_pending", "next_attempt_at", postgresql_where=sa.text("status = 'pending'")
        ),
    )

    user_id: Mapped[int] = mapped_column(_user_fk(), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    recipient: Mapped[str] = mapped_column(sa.String(320))
    requested_ip: Mapped[str | None] = mapped_column(postgresql.INET)
    status: Mapped[MailStatus] = mapped_column(MAIL_STATUS, server_default=sa.text("'pending'"))
    attempts: Mapped[int] = mapped_column(server_default=sa.text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now())
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
