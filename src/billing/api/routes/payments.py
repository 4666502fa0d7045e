"""Payment methods, token bundle purchases and the user's own token balance."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Request, Response, status

from billing.api import schemas
from billing.api.deps import CodePath, CurrentUser, GatewayDep, SessionDep, require_permission
from billing.services import idempotency, payment_methods, tokens
from billing.services.errors import PaymentRequired

router = APIRouter(tags=["payments"])


@router.post(
    "/payment-methods",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_permission("payments:write"))],
)
def add_payment_method(
    body: schemas.PaymentMethodIn, user: CurrentUser, session: SessionDep, gateway: GatewayDep
) -> schemas.PaymentMethodOut:
    """Store a payment method the provider tokenised (422 for a token it does not know); the first is the default."""
    method = payment_methods.add_payment_method(
        session, gateway, user.id, body.provider, body.token, make_default=body.make_default
    )
    session.commit()
    return schemas.PaymentMethodOut.model_validate(method)


@router.get("/payment-methods", dependencies=[Depends(require_permission("payments:read"))])
def list_payment_methods(user: CurrentUser, session: SessionDep) -> list[schemas.PaymentMethodOut]:
    """The user's payment methods, default first."""
    return [schemas.PaymentMethodOut.model_validate(m) for m in payment_methods.list_payment_methods(session, user.id)]


PURCHASE_ROUTE = "POST /token-bundles/{code}/purchase"


@router.post(
    "/token-bundles/{code}/purchase",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.PurchaseOut,
    dependencies=[Depends(require_permission("payments:write"))],
)
def purchase_bundle(
    code: CodePath,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    gateway: GatewayDep,
    body: Annotated[schemas.PurchaseIn | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=255)] = None,
) -> Response:
    """Buy a token bundle with your own payment method; tokens only for a succeeded charge (else 402).

    With an Idempotency-Key, a retry of the same purchase gets the first answer byte for byte (marked
    Idempotent-Replayed); the key reused for another bundle or payment method is refused with 422.
    """
    params = body.model_dump() if body is not None else schemas.PurchaseIn().model_dump()
    digest = idempotency.request_hash(request.method, request.url.path, params)
    if idempotency_key is not None:
        earlier = idempotency.earlier_answer(session, user.id, idempotency_key, PURCHASE_ROUTE, digest)
        if earlier is not None:
            return _answer(earlier, replayed=True)
    try:
        bought = tokens.purchase_bundle(session, gateway, user.id, code, params["payment_method_id"], idempotency_key)
    except PaymentRequired as refused:
        # The declined or pending attempt stays on record; no token moved.
        if idempotency_key is None:
            session.commit()
            raise
        answer = idempotency.Answer(refused.status_code, json.dumps({"detail": refused.detail}).encode())
    else:
        receipt = schemas.PurchaseOut(
            purchase_id=bought.purchase.id,
            bundle_code=code,
            tokens=bought.purchase.tokens,
            amount=bought.purchase.amount,
            currency=bought.purchase.currency,
            payment_id=bought.payment.id,
            provider=bought.payment.provider,
            balance=bought.transaction.balance_after,
        )
        answer = idempotency.Answer(status.HTTP_201_CREATED, receipt.model_dump_json().encode())
    if idempotency_key is not None:
        idempotency.remember(session, user.id, idempotency_key, PURCHASE_ROUTE, digest, answer)
    session.commit()
    return _answer(answer, replayed=False)


def _answer(answer: idempotency.Answer, *, replayed: bool) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(answer.body, status_code=answer.status_code, media_type="application/json", headers=headers)


@router.get("/tokens", dependencies=[Depends(require_permission("tokens:read"))])
def my_tokens(user: CurrentUser, session: SessionDep) -> schemas.BalanceOut:
    """The user's own balance and newest ledger entries."""
    return schemas.BalanceOut(
        user_id=user.id,
        balance=tokens.balance_of(session, user.id),
        transactions=[schemas.TokenTransactionOut.model_validate(t) for t in tokens.history(session, user.id)],
    )
