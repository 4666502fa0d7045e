"""Token balances over a ledger: every change is a token_transactions row; a balance never goes negative."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from billing.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    TokenBalance,
    TokenBundle,
    TokenBundlePurchase,
    TokenTransaction,
    TokenTransactionKind,
    User,
)
from billing.services import catalogue, payment_methods
from billing.services.errors import (
    InsufficientBalance,
    InvalidRequest,
    NotFound,
    PaymentRequired,
    Unprocessable,
)
from billing.services.gateway import Gateway, Outcome
from billing.services.rows import add_unique

CREDIT_KINDS = (TokenTransactionKind.PURCHASE, TokenTransactionKind.GRANT, TokenTransactionKind.REFUND)
DEBIT_KINDS = (TokenTransactionKind.CONSUME, TokenTransactionKind.EXPIRE)
ADJUSTMENT = TokenTransactionKind.ADJUSTMENT


@dataclass(frozen=True)
class Purchase:
    """A completed bundle purchase: the purchase row, its payment and the ledger entry."""

    purchase: TokenBundlePurchase
    payment: Payment
    transaction: TokenTransaction


def _ensure_user(session: Session, user_id: int) -> None:
    if session.get(User, user_id) is None:
        raise NotFound(f"no user with id {user_id}")


def _record(
    session: Session,
    user_id: int,
    kind: TokenTransactionKind,
    amount: int,
    balance_after: int,
    description: str | None,
    idempotency_key: str | None,
    purchase_id: int | None = None,
) -> TokenTransaction:
    entry = TokenTransaction(
        user_id=user_id,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        description=description,
        idempotency_key=idempotency_key,
        purchase_id=purchase_id,
    )
    add_unique(session, entry, f"idempotency key {idempotency_key!r} was already used for this user")
    return entry


def credit(
    session: Session,
    user_id: int,
    amount: int,
    kind: TokenTransactionKind = TokenTransactionKind.GRANT,
    *,
    description: str | None = None,
    idempotency_key: str | None = None,
    purchase_id: int | None = None,
) -> TokenTransaction:
    """Add tokens (creating the balance row if needed) and write the ledger entry, in the caller's transaction."""
    if amount <= 0:
        raise InvalidRequest("a credit must be a positive number of tokens")
    if kind not in (*CREDIT_KINDS, ADJUSTMENT):
        raise InvalidRequest(f"{kind.value} is not a credit")
    if (kind is TokenTransactionKind.PURCHASE) != (purchase_id is not None):
        # Purchased tokens exist only behind a paid purchase; anything else is a grant, refund or adjustment.
        raise InvalidRequest("purchase credits come only from a paid bundle purchase; use grant or adjustment")
    _ensure_user(session, user_id)
    new_row = insert(TokenBalance).values(user_id=user_id, balance=amount)
    upsert = new_row.on_conflict_do_update(
        index_elements=[TokenBalance.user_id],
        set_={"balance": TokenBalance.balance + new_row.excluded.balance, "updated_at": sa.func.now()},
    ).returning(TokenBalance.balance)
    balance = session.execute(upsert).scalar_one()
    return _record(session, user_id, kind, amount, balance, description, idempotency_key, purchase_id)


def debit(
    session: Session,
    user_id: int,
    amount: int,
    kind: TokenTransactionKind = TokenTransactionKind.CONSUME,
    *,
    description: str | None = None,
    idempotency_key: str | None = None,
) -> TokenTransaction:
    """Take tokens with one atomic conditional UPDATE; InsufficientBalance when the balance is too low."""
    if amount <= 0:
        raise InvalidRequest("a debit must be a positive number of tokens")
    if kind not in (*DEBIT_KINDS, ADJUSTMENT):
        raise InvalidRequest(f"{kind.value} is not a debit")
    _ensure_user(session, user_id)
    stmt = (
        sa.update(TokenBalance)
        .where(TokenBalance.user_id == user_id, TokenBalance.balance >= amount)
        .values(balance=TokenBalance.balance - amount, updated_at=sa.func.now())
        .returning(TokenBalance.balance)
    )
    balance = session.execute(stmt).scalar_one_or_none()
    if balance is None:
        raise InsufficientBalance(f"insufficient token balance for a debit of {amount}")
    return _record(session, user_id, kind, -amount, balance, description, idempotency_key)


def balance_of(session: Session, user_id: int) -> int:
    """The user's current balance (0 when they never had tokens)."""
    value = session.scalar(sa.select(TokenBalance.balance).where(TokenBalance.user_id == user_id))
    return int(value or 0)


def history(session: Session, user_id: int, limit: int = 100) -> Sequence[TokenTransaction]:
    """The user's ledger, newest first."""
    stmt = (
        sa.select(TokenTransaction)
        .where(TokenTransaction.user_id == user_id)
        .order_by(TokenTransaction.id.desc())
        .limit(limit)
    )
    return session.scalars(stmt).all()


def ledger_sum(session: Session, user_id: int) -> int:
    """The sum of every ledger entry of the user (equals the balance when the books are right)."""
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(TokenTransaction.amount), 0)).where(TokenTransaction.user_id == user_id)
    )
    return int(total or 0)


def purchase_bundle(
    session: Session,
    gateway: Gateway,
    user_id: int,
    bundle_code: str,
    payment_method_id: int | None = None,
    idempotency_key: str | None = None,
) -> Purchase:
    """Buy a bundle with the caller's own payment method: tokens are credited only for a succeeded charge.

    The payment row (keyed by ``idempotency_key``) is written before the provider is asked, so a
    retry or a concurrent request with the same key finds it instead of charging again. A decline
    or a charge that needs authentication raises PaymentRequired after the payment row is flushed:
    the caller commits it (the attempt is on record) and no token moves.
    """
    bundle = catalogue.get_bundle(session, bundle_code)
    key = idempotency_key or f"auto_{secrets.token_hex(16)}"
    earlier = session.scalars(
        sa.select(Payment).where(Payment.user_id == user_id, Payment.idempotency_key == key)
    ).one_or_none()
    if earlier is not None:
        return _replay(session, earlier, bundle)
    method: PaymentMethod | None
    if payment_method_id is not None:
        method = payment_methods.get_payment_method(session, user_id, payment_method_id)
    else:
        method = payment_methods.default_payment_method(session, user_id)
    if method is None:
        raise PaymentRequired("no payment method to charge: add one with POST /payment-methods")
    payment = Payment(
        user_id=user_id,
        payment_method_id=method.id,
        provider=method.provider,
        amount=bundle.price,
        currency=bundle.currency,
        status=PaymentStatus.PENDING,
        idempotency_key=key,
    )
    add_unique(session, payment, "a purchase with this Idempotency-Key is being processed; retry to get its result")
    # Keys are the caller's own: two users may pick the same one, so the provider gets it with the user's id.
    charge = gateway.charge(method.provider_method_id, bundle.price, bundle.currency, f"user-{user_id}:{key}")
    payment.provider_payment_id = charge.reference
    if charge.outcome is not Outcome.SUCCEEDED:
        payment.status = PaymentStatus.PENDING if charge.outcome is Outcome.ACTION_REQUIRED else PaymentStatus.FAILED
        payment.failure_reason = charge.reason
        session.flush()
        raise _not_paid(payment)
    payment.status, payment.paid_at = PaymentStatus.SUCCEEDED, datetime.now(timezone.utc)
    purchase = TokenBundlePurchase(
        user_id=user_id,
        bundle_id=bundle.id,
        payment_id=payment.id,
        tokens=bundle.tokens,
        amount=bundle.price,
        currency=bundle.currency,
    )
    session.add(purchase)
    session.flush()
    entry = credit(
        session,
        user_id,
        bundle.tokens,
        TokenTransactionKind.PURCHASE,
        description=f"bundle {bundle.code}",
        purchase_id=purchase.id,
    )
    return Purchase(purchase=purchase, payment=payment, transaction=entry)


def _not_paid(payment: Payment) -> PaymentRequired:
    if payment.status is PaymentStatus.PENDING:
        return PaymentRequired("the card needs authentication (3-D Secure); no tokens were credited")
    return PaymentRequired(f"the payment was declined ({payment.failure_reason}); no tokens were credited")


def _replay(session: Session, payment: Payment, bundle: TokenBundle) -> Purchase:
    """The result of an earlier attempt with the same key for the same bundle: its purchase, or the same refusal."""
    purchase = session.scalars(
        sa.select(TokenBundlePurchase).where(TokenBundlePurchase.payment_id == payment.id)
    ).one_or_none()
    same = (payment.amount, payment.currency) == (bundle.price, bundle.currency)
    if not same or (purchase is not None and purchase.bundle_id != bundle.id):
        raise Unprocessable("this Idempotency-Key was already used for another purchase; use a new key")
    if payment.status is not PaymentStatus.SUCCEEDED or purchase is None:
        raise _not_paid(payment)
    entry = session.scalars(sa.select(TokenTransaction).where(TokenTransaction.purchase_id == purchase.id)).one()
    return Purchase(purchase=purchase, payment=payment, transaction=entry)
