"""Inserting a row that a unique constraint may refuse, without losing the caller's transaction."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing.services.errors import Conflict


def add_unique(session: Session, row: object, conflict: str) -> None:
    """Insert ``row`` in a savepoint; Conflict(``conflict``) when a unique constraint refuses it."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(conflict) from None
