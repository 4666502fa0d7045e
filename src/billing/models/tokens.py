"""Prepaid tokens: bundles for sale, purchases, each user's balance and its ledger."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from billing.models.base import CURRENCY_FORMAT, Base, CreatedAtMixin, IdMixin, TimestampMixin, money
from billing.models.enums import TOKEN_TRANSACTION_KIND, TokenTransactionKind
from billing.models.priced import PricedItemMixin, priced_item_constraints


class TokenBundle(IdMixin, PricedItemMixin, TimestampMixin, Base):
    """A package of tokens for sale at a fixed price."""

    __tablename__ = "token_bundles"
    __table_args__ = priced_item_constraints(sa.CheckConstraint("tokens > 0", name="tokens_positive"))

    tokens: Mapped[int] = mapped_column()


class TokenBundlePurchase(IdMixin, CreatedAtMixin, Base):
    """A user's purchase of a bundle, with the price paid at the time."""

    __tablename__ = "token_bundle_purchases"
    __table_args__ = (
        sa.CheckConstraint("tokens > 0", name="tokens_positive"),
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint(CURRENCY_FORMAT, name="currency_format"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    bundle_id: Mapped[int] = mapped_column(sa.ForeignKey("token_bundles.id", ondelete="RESTRICT"), index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id", ondelete="SET NULL"))
    tokens: Mapped[int] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(money())
    currency: Mapped[str] = mapped_column(sa.String(3))


class TokenBalance(IdMixin, TimestampMixin, Base):
    """A user's current token balance: one row per user, never negative."""

    __tablename__ = "token_balances"
    __table_args__ = (
        sa.UniqueConstraint("user_id"),
        sa.CheckConstraint("balance >= 0", name="balance_nonnegative"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    balance: Mapped[int] = mapped_column(sa.BigInteger, server_default=sa.text("0"))


class TokenTransaction(IdMixin, CreatedAtMixin, Base):
    """One change of a user's balance; credits are positive, debits negative."""

    __tablename__ = "token_transactions"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "idempotency_key"),
        sa.CheckConstraint(
            "(kind IN ('purchase', 'grant', 'refund') AND amount > 0)"
            " OR (kind IN ('consume', 'expire') AND amount < 0)"
            " OR (kind = 'adjustment' AND amount <> 0)",
            name="amount_sign_matches_kind",
        ),
        sa.CheckConstraint("balance_after >= 0", name="balance_after_nonnegative"),
        sa.Index(None, "user_id", "created_at"),
    )

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[TokenTransactionKind] = mapped_column(TOKEN_TRANSACTION_KIND)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    purchase_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("token_bundle_purchases.id", ondelete="SET NULL"), index=True
    )
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.String(255))
