"""Throttling of sensitive actions (login, sign-up, forgot and reset password), shared by every worker.

Each attempt counts against a fixed window per (action, subject), where the subject is an account
(its normalized email) or a client address; the counters live in PostgreSQL, so all workers and
all replicas see the same numbers. The count is committed by the caller before the action runs,
so a failed attempt counts too; an attempt refused with 429 is not counted (the window still ends
when it would have).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from billing.models import AuthThrottle
from billing.services.errors import TooManyAttempts


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per ``window_seconds`` for one subject."""

    attempts: int
    window_seconds: int


@dataclass(frozen=True)
class ThrottlePolicy:
    """Limits per action, for one account and for one client address."""

    per_account: dict[str, Limit] = field(
        default_factory=lambda: {
            "login": Limit(10, 15 * 60),
            "forgot": Limit(3, 60 * 60),
            "reset": Limit(10, 15 * 60),
            "signup": Limit(3, 60 * 60),
        }
    )
    per_address: dict[str, Limit] = field(
        default_factory=lambda: {
            "login": Limit(100, 15 * 60),
            "forgot": Limit(20, 60 * 60),
            "reset": Limit(50, 15 * 60),
            "signup": Limit(20, 60 * 60),
        }
    )

    def scaled(self, factor: int) -> ThrottlePolicy:
        """The same policy with every attempt count multiplied by ``factor`` (for test suites on one address)."""
        return ThrottlePolicy(
            per_account={k: Limit(v.attempts * factor, v.window_seconds) for k, v in self.per_account.items()},
            per_address={k: Limit(v.attempts * factor, v.window_seconds) for k, v in self.per_address.items()},
        )


def _digest(kind: str, subject: str) -> str:
    return hashlib.sha256(f"{kind}:{subject}".encode("utf-8", "replace")).hexdigest()


def _count(session: Session, action: str, subject_hash: str, limit: Limit) -> int | None:
    """Count one attempt; the seconds until the window ends when the limit is exceeded, else None."""
    window = timedelta(seconds=limit.window_seconds)
    table = AuthThrottle.__table__
    expired = table.c.window_started_at <= sa.func.now() - window
    stmt = (
        insert(AuthThrottle)
        .values(action=action, subject_hash=subject_hash, window_started_at=sa.func.now(), attempts=1)
        .on_conflict_do_update(
            index_elements=[AuthThrottle.action, AuthThrottle.subject_hash],
            set_={
                "attempts": sa.case((expired, 1), else_=table.c.attempts + 1),
                "window_started_at": sa.case((expired, sa.func.now()), else_=table.c.window_started_at),
            },
        )
        .returning(AuthThrottle.attempts, AuthThrottle.window_started_at, sa.func.now())
    )
    attempts, started, now = session.execute(stmt).one()
    if attempts <= limit.attempts:
        return None
    ends: datetime = started + window
    return max(1, math.ceil((ends - now).total_seconds()))


def hit(session: Session, policy: ThrottlePolicy, action: str, *, account: str | None, address: str | None) -> None:
    """Count an attempt at ``action`` for the account and the address; TooManyAttempts (429) over a limit.

    Both counters move on every attempt (so neither can be probed for free); the caller commits.
    """
    waits: list[int] = []
    for kind, subject, limits in (("account", account, policy.per_account), ("address", address, policy.per_address)):
        limit = limits.get(action)
        if subject is None or limit is None:
            continue
        wait = _count(session, action, _digest(kind, subject), limit)
        if wait is not None:
            waits.append(wait)
    if waits:
        raise TooManyAttempts("too many attempts; try again later", retry_after_seconds=max(waits))


def clear(session: Session, action: str, *, account: str) -> None:
    """Forget an account's attempts at ``action`` (after a successful login)."""
    session.execute(
        sa.delete(AuthThrottle).where(
            AuthThrottle.action == action, AuthThrottle.subject_hash == _digest("account", account)
        )
    )
