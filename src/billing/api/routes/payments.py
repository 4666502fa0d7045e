"""Payment methods, token bundle purchases and the user's own token balance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, status

from billing.api import schemas
from billing.api.deps import CodePath, CurrentUser, GatewayDep, SessionDep, require_permission
from billing.services import payment_methods, tokens
from billing.services.errors import PaymentRequired

router = APIRouter(tags=["payments"])


@router.post(
    "/payment-methods",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_permission("payments:write"))],
)
def add_payment_method(
    body: schemas.PaymentMethodIn, user: CurrentUser, session: SessionDep
) -> schemas.PaymentMethodOut:
    """Store a payment method; the first one becomes the default."""
    method = payment_methods.add_payment_method(
        session,
        user.id,
        body.provider,
        body.provider_method_id,
        brand=body.brand,
        last4=body.last4,
        exp_month=body.exp_month,
        exp_year=body.exp_year,
        make_default=body.make_default,
    )
    session.commit()
    return schemas.PaymentMethodOut.model_validate(method)


@router.get("/payment-methods", dependencies=[Depends(require_permission("payments:read"))])
def list_payment_methods(user: CurrentUser, session: SessionDep) -> list[schemas.PaymentMethodOut]:
    """The user's payment methods, default first."""
    return [schemas.PaymentMethodOut.model_validate(m) for m in payment_methods.list_payment_methods(session, user.id)]


@router.post(
    "/token-bundles/{code}/purchase",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_permission("payments:write"))],
)
def purchase_bundle(
    code: CodePath,
    user: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    body: Annotated[schemas.PurchaseIn | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> schemas.PurchaseOut:
    """Buy a token bundle with your own payment method; tokens only for a succeeded charge (else 402)."""
    method_id = body.payment_method_id if body is not None else None
    try:
        bought = tokens.purchase_bundle(session, gateway, user.id, code, method_id, idempotency_key)
    except PaymentRequired:
        session.commit()  # the declined or pending attempt stays on record; no token moved
        raise
    session.commit()
    return schemas.PurchaseOut(
        purchase_id=bought.purchase.id,
        bundle_code=code,
        tokens=bought.purchase.tokens,
        amount=bought.purchase.amount,
        currency=bought.purchase.currency,
        payment_id=bought.payment.id,
        provider=bought.payment.provider,
        balance=bought.transaction.balance_after,
    )


@router.get("/tokens", dependencies=[Depends(require_permission("tokens:read"))])
def my_tokens(user: CurrentUser, session: SessionDep) -> schemas.BalanceOut:
    """The user's own balance and newest ledger entries."""
    return schemas.BalanceOut(
        user_id=user.id,
        balance=tokens.balance_of(session, user.id),
        transactions=[schemas.TokenTransactionOut.model_validate(t) for t in tokens.history(session, user.id)],
    )
