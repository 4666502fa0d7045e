"""Payment methods stored at a provider (a token and what the provider says of it); at most one default per user."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from billing.models import PaymentMethod, PaymentProvider
from billing.services.errors import NotFound, Unprocessable
from billing.services.gateway import Gateway


def add_payment_method(
    session: Session,
    gateway: Gateway,
    user_id: int,
    provider: PaymentProvider,
    token: str,
    *,
    make_default: bool = False,
) -> PaymentMethod:
    """Store a tokenised method with the provider's brand, last four and expiry; the first one is the default."""
    details = gateway.payment_method(token)
    if details is None:
        raise Unprocessable("the payment provider knows no such payment method token; tokenise the card first")
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
        provider_method_id=details.token,
        brand=details.brand,
        last4=details.last4,
        exp_month=details.exp_month,
        exp_year=details.exp_year,
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
