"""billing.services.invoices: rounding money and line amounts."""

from __future__ import annotations

from decimal import Decimal

from billing.services.invoices import InvoiceItem, money


def test_money_and_line_amounts() -> None:
    assert money(Decimal("0.125")) == Decimal("0.13")
    assert money(3) == Decimal("3.00")
    assert InvoiceItem("x", Decimal("9.99"), "USD", quantity=3).amount == Decimal("29.97")
