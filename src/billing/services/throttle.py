"""Throttling of sensitive actions (login, sign-up, forgot and reset password), shared by every worker.

Attempts are counted per subject in a window: an account (its normalized email), a client address,
or the pair of both. A subject's first ``free`` attempts in the window pass; past them, each attempt
must wait a pause that doubles (1 s, 2 s, 4 s, ... up to ``max_delay``), and one that comes sooner
is refused with 429 and Retry-After, without being counted. The counters live in PostgreSQL, so all
workers and all replicas see the same numbers; the caller commits the count before the action runs,
so a failed attempt counts too.

Who can slow down whom (NIST SP 800-63B, 5.2.2 rate limiting): failed logins of one account from
one client slow that client only (the pair); one client failing on many accounts slows that client
(the address); the account itself is limited to 100 failures a day from everywhere together, past
which only a password reset (mailed to the owner, never refused per account) lets anyone in, and a
successful reset or login clears the account's count. A stranger can thus cost the owner a reset
mail, never a wait on their own client.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from billing.models import AuthThrottle
from billing.services.errors import TooManyAttempts

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class Limit:
    """``free`` attempts per ``window_seconds`` for one subject; past them, pauses from ``first_delay`` doubling."""

    free: int
    window_seconds: int
    first_delay: int = 1
    max_delay: int = 15 * MINUTE

    def delay(self, past: int) -> int:
        """The pause after the ``past``-th attempt beyond the free ones (1-based), in seconds."""
        return min(self.max_delay, self.first_delay << min(past - 1, 40))


@dataclass(frozen=True)
class ThrottlePolicy:
    """Limits per action and subject kind, and the quota of mails one account may be sent."""

    per_pair: dict[str, Limit] = field(
        default_factory=lambda: {"login": Limit(5, 15 * MINUTE), "reset": Limit(10, 15 * MINUTE)}
    )
    per_address: dict[str, Limit] = field(
        default_factory=lambda: {
            "login": Limit(100, 15 * MINUTE),
            "forgot": Limit(20, HOUR),
            "reset": Limit(50, 15 * MINUTE),
            "signup": Limit(20, HOUR),
        }
    )
    # The account's own ceiling (NIST: at most 100 consecutive failures), then locked until a reset.
    per_account: dict[str, Limit] = field(
        default_factory=lambda: {"login": Limit(100, DAY, first_delay=DAY, max_delay=DAY)}
    )
    # Mails to one account (reset tokens, "you already have an account"): a quota, never a refusal. Its
    # window is the reset token's lifetime, so while it holds back new mails the last one still works.
    mail_quota: Limit = Limit(3, 30 * MINUTE)

    def scaled(self, factor: int) -> ThrottlePolicy:
        """The same policy with every free allowance multiplied by ``factor`` (for test suites on one address)."""

        def times(limits: dict[str, Limit]) -> dict[str, Limit]:
            return {action: replace(limit, free=limit.free * factor) for action, limit in limits.items()}

        return ThrottlePolicy(
            per_pair=times(self.per_pair),
            per_address=times(self.per_address),
            per_account=times(self.per_account),
            mail_quota=replace(self.mail_quota, free=self.mail_quota.free * factor),
        )

    def with_mail_window(self, seconds: int) -> ThrottlePolicy:
        """The same policy with the mail quota's window set to ``seconds`` (the reset token's lifetime)."""
        return replace(self, mail_quota=replace(self.mail_quota, window_seconds=seconds))


def _digest(kind: str, subject: str) -> str:
    return hashlib.sha256(f"{kind}:{subject}".encode("utf-8", "replace")).hexdigest()


def _subjects(policy: ThrottlePolicy, action: str, account: str | None, address: str | None) -> list[tuple[str, Limit]]:
    """(subject hash, limit) of every counter an attempt at ``action`` moves."""
    found = []
    for kind, subject, limits in (
        ("pair", f"{account}|{address}" if account is not None and address is not None else None, policy.per_pair),
        ("address", address, policy.per_address),
        ("account", account, policy.per_account),
    ):
        limit = limits.get(action)
        if subject is not None and limit is not None:
            found.append((_digest(kind, subject), limit))
    return found


def _blocked(session: Session, action: str, subject_hash: str) -> int | None:
    """Seconds until this subject may try again, or None when it may now."""
    row = session.execute(
        sa.select(AuthThrottle.blocked_until, sa.func.now()).where(
            AuthThrottle.action == action, AuthThrottle.subject_hash == subject_hash
        )
    ).one_or_none()
    if row is None or row[0] is None or row[0] <= row[1]:
        return None
    return max(1, math.ceil((row[0] - row[1]).total_seconds()))


def _counting(action: str, subject_hash: str, limit: Limit, *, unless_paused: bool) -> sa.Insert:
    """The upsert that counts one attempt in the subject's window (a new window once the old one ended)."""
    window = timedelta(seconds=limit.window_seconds)
    table = AuthThrottle.__table__
    expired = table.c.window_started_at <= sa.func.now() - window
    changes: dict[str, object] = {
        "attempts": sa.case((expired, 1), else_=table.c.attempts + 1),
        "window_started_at": sa.case((expired, sa.func.now()), else_=table.c.window_started_at),
    }
    paused = None
    if unless_paused:
        changes["blocked_until"] = None
        paused = sa.or_(table.c.blocked_until.is_(None), table.c.blocked_until <= sa.func.now())
    return (
        insert(AuthThrottle)
        .values(action=action, subject_hash=subject_hash, window_started_at=sa.func.now(), attempts=1)
        .on_conflict_do_update(
            index_elements=[AuthThrottle.action, AuthThrottle.subject_hash], set_=changes, where=paused
        )
        .returning(AuthThrottle.attempts)
    )


def _count(session: Session, action: str, subject_hash: str, limit: Limit) -> int | None:
    """Count one attempt unless the subject is paused; the pause's remaining seconds when it is, else None.

    One statement counts it, so concurrent attempts cannot slip past a pause together; past the
    free attempts it also starts the next pause.
    """
    attempts = session.execute(_counting(action, subject_hash, limit, unless_paused=True)).scalar_one_or_none()
    if attempts is None:
        return _blocked(session, action, subject_hash) or 1
    if attempts >= limit.free:
        pause = sa.func.now() + timedelta(seconds=limit.delay(attempts - limit.free + 1))
        session.execute(
            sa.update(AuthThrottle)
            .where(AuthThrottle.action == action, AuthThrottle.subject_hash == subject_hash)
            .values(blocked_until=pause)
        )
    return None


def hit(session: Session, policy: ThrottlePolicy, action: str, *, account: str | None, address: str | None) -> None:
    """Count an attempt at ``action`` for every subject it concerns; TooManyAttempts (429) while one is paused.

    A paused subject refuses the attempt before anything is counted; otherwise every counter moves
    (so none can be probed for free). The caller commits.
    """
    subjects = _subjects(policy, action, account, address)
    waits = [wait for subject_hash, _ in subjects if (wait := _blocked(session, action, subject_hash)) is not None]
    if not waits:
        waits = [wait for h, limit in subjects if (wait := _count(session, action, h, limit)) is not None]
    if waits:
        raise TooManyAttempts("too many attempts; try again later", retry_after_seconds=max(waits))


def succeeded(session: Session, action: str, *, account: str, address: str | None) -> None:
    """After a successful attempt: forget the account's and this client's count for it; the address's drops by one."""
    hashes = [_digest("account", account)]
    if address is not None:
        hashes.append(_digest("pair", f"{account}|{address}"))
    session.execute(sa.delete(AuthThrottle).where(AuthThrottle.action == action, AuthThrottle.subject_hash.in_(hashes)))
    if address is not None:
        # Only failures should add up per client: a NAT's many successful logins must not slow it down.
        session.execute(
            sa.update(AuthThrottle)
            .where(
                AuthThrottle.action == action,
                AuthThrottle.subject_hash == _digest("address", address),
                AuthThrottle.attempts > 1,
            )
            .values(attempts=AuthThrottle.attempts - 1)
        )


def within_mail_quota(session: Session, policy: ThrottlePolicy, account: str) -> bool:
    """Count a mail to ``account``; False once the quota for the window is used (send nothing then, refuse nothing)."""
    counting = _counting("mail", _digest("account", account), policy.mail_quota, unless_paused=False)
    return int(session.execute(counting).scalar_one()) <= policy.mail_quota.free
