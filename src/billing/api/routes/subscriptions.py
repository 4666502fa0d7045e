"""Subscriptions (checkout with add-ons, cancel) and invoices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, status

from billing.api import schemas
from billing.api.deps import CurrentUser, IdPath, SessionDep, require_permission
from billing.services import invoices, subscriptions

router = APIRouter(tags=["subscriptions"])


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_permission("subscriptions:write"))],
)
def subscribe(body: schemas.SubscribeIn, user: CurrentUser, session: SessionDep) -> schemas.CheckoutOut:
    """Check out: subscribe to a plan with optional add-ons; the first invoice is issued at once by default."""
    checkout = subscriptions.subscribe(
        session, user.id, body.plan_code, body.addon_codes, issue_invoice=body.issue_invoice
    )
    session.commit()
    invoice = checkout.invoice
    return schemas.CheckoutOut(
        subscription=schemas.SubscriptionOut.of(checkout.subscription, checkout.addons),
        invoice=schemas.InvoiceOut.model_validate(invoice) if invoice is not None else None,
    )


@router.get("/subscriptions/current", dependencies=[Depends(require_permission("subscriptions:read"))])
def current(user: CurrentUser, session: SessionDep) -> schemas.SubscriptionOut | None:
    """The user's live subscription with its open add-ons, or null."""
    subscription = subscriptions.current_subscription(session, user.id)
    if subscription is None:
        return None
    return schemas.SubscriptionOut.of(subscription, subscriptions.open_addons(session, subscription.id))


@router.post(
    "/subscriptions/{subscription_id}/cancel", dependencies=[Depends(require_permission("subscriptions:write"))]
)
def cancel(
    subscription_id: IdPath,
    user: CurrentUser,
    session: SessionDep,
    body: Annotated[schemas.CancelIn | None, Body()] = None,
) -> schemas.SubscriptionOut:
    """Cancel one of the user's subscriptions (at the end of the period unless told otherwise)."""
    at_period_end = body.at_period_end if body is not None else True
    subscription = subscriptions.cancel(session, user.id, subscription_id, at_period_end=at_period_end)
    session.commit()
    return schemas.SubscriptionOut.of(subscription)


@router.post(
    "/subscriptions/{subscription_id}/invoice",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_permission("subscriptions:write"))],
)
def invoice_subscription(subscription_id: IdPath, user: CurrentUser, session: SessionDep) -> schemas.InvoiceOut:
    """Invoice the current period of a subscription (plan and open add-ons); 409 if already invoiced."""
    invoice = subscriptions.invoice_current_period(session, user.id, subscription_id)
    session.commit()
    return schemas.InvoiceOut.model_validate(invoice)


@router.get("/invoices", dependencies=[Depends(require_permission("invoices:read"))])
def list_invoices(user: CurrentUser, session: SessionDep) -> list[schemas.InvoiceOut]:
    """The user's invoices, newest first."""
    return [schemas.InvoiceOut.model_validate(invoice) for invoice in invoices.list_invoices(session, user.id)]


@router.get("/invoices/{invoice_id}", dependencies=[Depends(require_permission("invoices:read"))])
def get_invoice(invoice_id: IdPath, user: CurrentUser, session: SessionDep) -> schemas.InvoiceOut:
    """One of the user's invoices."""
    return schemas.InvoiceOut.model_validate(invoices.get_invoice(session, user.id, invoice_id))
