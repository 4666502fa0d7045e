"""Declarative base, the shared MetaData with its naming convention, and column mixins."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Every constraint kind gets a deterministic name, so migrations can refer to them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# CHECK expression for every ``currency`` column: an ISO 4217 code in upper case.
CURRENCY_FORMAT = "currency ~ '^[A-Z]{3}$'"


class Base(DeclarativeBase):
    """Base class of every billing model; its metadata is the one Alembic compares against."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def money() -> sa.Numeric[Decimal]:
    """The column type of every amount of money (paired with a ``currency`` column)."""
    return sa.Numeric(12, 2)


class IdMixin:
    """A BIGINT identity primary key named ``id``."""

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=False), primary_key=True, sort_order=-10)


class CreatedAtMixin:
    """A ``created_at`` timestamp set by the server."""

    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False, sort_order=10
    )


class TimestampMixin(CreatedAtMixin):
    """``created_at`` and ``updated_at`` timestamps set by the server."""

    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), onupdate=sa.func.now(), nullable=False, sort_order=11
    )
