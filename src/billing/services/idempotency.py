"""Idempotency keys as payment APIs treat them: one key, one caller, one route, one request, one answer.

The first request with a key stores its answer (status and exact body bytes) in the transaction of
the work it did. A retry with the same key, route and parameters gets those bytes back; the same key
with another route or other parameters is refused (422), never answered with the first request's
receipt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.models import IdempotencyRecord
from billing.services.errors import Unprocessable
from billing.services.rows import add_unique


@dataclass(frozen=True)
class Answer:
    """A stored answer: the status code and the body, byte for byte."""

    status_code: int
    body: bytes


def request_hash(method: str, path: str, params: Mapping[str, Any]) -> str:
    """SHA-256 of the method, the concrete path and the parameters in a canonical form (sorted keys)."""
    canonical = json.dumps({"method": method, "path": path, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def earlier_answer(session: Session, user_id: int, key: str, route: str, digest: str) -> Answer | None:
    """The answer stored for this caller's key, None if the key is new; Unprocessable if it named another request."""
    record = session.scalars(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.idempotency_key == key
        )
    ).one_or_none()
    if record is None:
        return None
    if record.route != route:
        raise Unprocessable(f"this Idempotency-Key was already used for {record.route}; use a new key for this request")
    if record.request_hash != digest:
        raise Unprocessable(
            "this Idempotency-Key was already used with different parameters; use a new key for a new request"
        )
    return Answer(record.status_code, record.response_body)


def remember(session: Session, user_id: int, key: str, route: str, digest: str, answer: Answer) -> None:
    """Store the answer with the key, in the caller's transaction; Conflict if a concurrent request stored one first."""
    record = IdempotencyRecord(
        user_id=user_id,
        idempotency_key=key,
        route=route,
        request_hash=digest,
        status_code=answer.status_code,
        response_body=answer.body,
    )
    add_unique(session, record, "a request with this Idempotency-Key is being processed; retry to get its result")
