"""Invoices: lines with Decimal amounts in one currency; totals are the sum of the lines."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from billing.models import Invoice, InvoiceLine, InvoiceStatus
from billing.services.errors import InvalidRequest, NotFound

CENT = Decimal("0.01")
DUE_DAYS = 14


def money(value: Decimal | int | str) -> Decimal:
    """A Decimal rounded half-up to cents."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class InvoiceItem:
    """What one invoice line charges for."""

    description: str
    unit_price: Decimal
    currency: str
    quantity: int = 1
    plan_id: int | None = None
    addon_id: int | None = None

    @property
    def amount(self) -> Decimal:
        """quantity x unit price, in cents."""
        return money(self.unit_price * self.quantity)


def new_invoice_number(now: datetime) -> str:
    """A unique, sortable-by-month invoice number such as ``INV-202602-3F9A0C1B7D2E``."""
    return f"INV-{now:%Y%m}-{secrets.token_hex(6).upper()}"


def create_invoice(
    session: Session,
    user_id: int,
    items: Sequence[InvoiceItem],
    *,
    subscription_id: int | None = None,
    period: tuple[datetime, datetime] | None = None,
    now: datetime | None = None,
) -> Invoice:
    """Issue an invoice with one line per item; all items share one currency; a zero total is paid at once."""
    if not items:
        raise InvalidRequest("an invoice needs at least one line")
    currencies = {item.currency for item in items}
    if len(currencies) != 1:
        raise InvalidRequest(f"an invoice has one currency, got {', '.join(sorted(currencies))}")
    issued = now or datetime.now(timezone.utc)
    currency = currencies.pop()
    lines = [
        InvoiceLine(
            description=item.description[:500],
            quantity=item.quantity,
            unit_price=money(item.unit_price),
            amount=item.amount,
            currency=currency,
            plan_id=item.plan_id,
            addon_id=item.addon_id,
        )
        for item in items
    ]
    subtotal = money(sum((line.amount for line in lines), Decimal(0)))
    invoice = Invoice(
        user_id=user_id,
        subscription_id=subscription_id,
        number=new_invoice_number(issued),
        status=InvoiceStatus.PAID if subtotal == 0 else InvoiceStatus.OPEN,
        currency=currency,
        subtotal=subtotal,
        discount_total=money(0),
        tax_total=money(0),
        total=subtotal,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        issued_at=issued,
        due_at=issued + timedelta(days=DUE_DAYS),
        paid_at=issued if subtotal == 0 else None,
        lines=lines,
    )
    session.add(invoice)
    session.flush()
    return invoice


def list_invoices(session: Session, user_id: int) -> Sequence[Invoice]:
    """The user's invoices, newest first, with their lines."""
    stmt = (
        sa.select(Invoice)
        .where(Invoice.user_id == user_id)
        .order_by(Invoice.created_at.desc(), Invoice.id.desc())
        .options(selectinload(Invoice.lines))
    )
    return session.scalars(stmt).all()


def get_invoice(session: Session, user_id: int, invoice_id: int) -> Invoice:
    """One of the user's invoices with its lines, or NotFound (also for someone else's)."""
    stmt = (
        sa.select(Invoice)
        .where(Invoice.id == invoice_id, Invoice.user_id == user_id)
        .options(selectinload(Invoice.lines))
    )
    invoice = session.scalars(stmt).one_or_none()
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


def invoice_exists_for_period(session: Session, subscription_id: int, period_start: datetime) -> bool:
    """True when a non-void invoice already covers the subscription period starting at ``period_start``."""
    stmt = sa.select(sa.literal(1)).where(
        Invoice.subscription_id == subscription_id,
        Invoice.period_start == period_start,
        Invoice.status != InvoiceStatus.VOID,
    )
    return session.scalar(stmt.limit(1)) is not None
