"""Payment methods stored at a provider; at most one default per user."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.models import PaymentMethod, PaymentProvider
from billing.services.errors import InvalidRequest, NotFound


def add_payment_method(
    session: Session,
    user_id: int,
    provider: PaymentProvider,
    provider_method_id: str,
    *,
    brand: str | None = None,
    last4: str | None = None,
    exp_month: int | None = None,
    exp_year: int | None = None,
    make_default: bool = False,
) -> PaymentMethod:
    """Store a method; the user's first method, or one added with ``make_default``, becomes the default."""
    if last4 is not None and not (len(last4) == 4 and last4.isdigit()):
        raise InvalidRequest("last4 must be four digits")
    # Lock the user's methods so two concurrent "make default" requests cannot both win.
    existing = session.scalars(sa.select(PaymentMethod).where(PaymentMethod.user_id == user_id).with_for_update()).all()
    default = make_default or not existing
    if default:
        session.execute(
            sa.update(PaymentMethod)
            .where(PaymentMethod.user_id == user_id, PaymentMethod.is_default.is_(True))
            .values(is_default=False)
        )
    method = PaymentMethod(
        user_id=user_id,
        provider=provider,
        provider_method_id=provider_method_id,
        brand=brand,
        last4=last4,
        exp_month=exp_month,
        exp_year=exp_year,
        is_default=default,
    )
    session.add(method)
    session.flush()
    return method


def list_payment_methods(session: Session, user_id: int) -> Sequence[PaymentMethod]:
    """The user's payment methods, default first."""
    stmt = (
        sa.select(PaymentMethod)
        .where(PaymentMethod.user_id == user_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.id)
    )
    return session.scalars(stmt).all()


def get_payment_method(session: Session, user_id: int, method_id: int) -> PaymentMethod:
    """One of the user's payment methods, or NotFound (also for someone else's)."""
    method = session.get(PaymentMethod, method_id)
    if method is None or method.user_id != user_id:
        raise NotFound(f"no payment method {method_id}")
    return method


def default_payment_method(session: Session, user_id: int) -> PaymentMethod | None:
    """The user's default payment method, if any."""
    stmt = sa.select(PaymentMethod).where(PaymentMethod.user_id == user_id, PaymentMethod.is_default.is_(True))
    return session.scalars(stmt).one_or_none()
