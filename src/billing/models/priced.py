"""What every catalogue item for sale shares (tariff plans, add-ons, token bundles): columns and constraints."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import CURRENCY_FORMAT, money

# Declarative puts a mixin's columns after the class's own, but the migrations put these columns in the
# middle of each table. These sort_order slots keep every table's column order as the migrations made it:
# id (-10), code and name, the class's own columns, price and currency, the class's columns marked
# AFTER_PRICE, is_active, the class's columns marked AFTER_ACTIVE, then the timestamps (10, 11).
_LEAD = -1
_PRICE = 1
AFTER_PRICE = 2
_ACTIVE = 3
AFTER_ACTIVE = 4


class PricedItemMixin:
    """A unique ``code``, a ``name``, a ``price`` in a ``currency`` and an ``is_active`` flag."""

    code: Mapped[str] = mapped_column(sa.String(50), sort_order=_LEAD)
    name: Mapped[str] = mapped_column(sa.String(100), sort_order=_LEAD)
    price: Mapped[Decimal] = mapped_column(money(), sort_order=_PRICE)
    currency: Mapped[str] = mapped_column(sa.String(3), sort_order=_PRICE)
    is_active: Mapped[bool] = mapped_column(server_default=sa.true(), sort_order=_ACTIVE)


def priced_item_constraints(*extra: sa.Constraint) -> tuple[sa.Constraint, ...]:
    """A priced item's ``__table_args__``: unique code, price >= 0, currency format, then ``extra``."""
    # New objects on every call: a constraint belongs to exactly one table.
    return (
        sa.UniqueConstraint("code"),
        sa.CheckConstraint("price >= 0", name="price_nonnegative"),
        sa.CheckConstraint(CURRENCY_FORMAT, name="currency_format"),
        *extra,
    )
