"""Request and response bodies; money is Decimal (serialized as a string) with its currency."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, Strict, StrictBool, model_validator

from billing.models import (
    BillingInterval,
    InvoiceStatus,
    PaymentProvider,
    SubscriptionStatus,
    TokenTransactionKind,
    UsagePeriod,
)
from billing.passwords import MAX_LENGTH
from billing.security import MAX_ID

Password = Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]
# Ids are PostgreSQL bigints; anything outside that range names nothing.
# Numbers are Strict: "5" and true are refused rather than read as 5 and 1.
Id = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Code = Annotated[str, Field(min_length=1, max_length=100)]


def unstorable(text: str) -> bool:
    """True when PostgreSQL text cannot hold the string: a NUL byte or an unpaired surrogate."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_text(value: object) -> None:
    if isinstance(value, str):
        if unstorable(value):
            raise ValueError("text must not contain NUL bytes or unpaired surrogates")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class In(BaseModel):
    """Base of request bodies: only storable text (numbers and flags are Strict where declared)."""

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: object) -> object:
        _check_text(data)
        return data


class Out(BaseModel):
    """Base of response bodies: built from ORM objects by attribute."""

    model_config = ConfigDict(from_attributes=True)


class Message(BaseModel):
    """A plain acknowledgement."""

    detail: str


class RegisterIn(In):
    """A new account."""

    email: EmailStr
    password: Password
    full_name: Annotated[str, Field(max_length=200)] | None = None


class UserOut(Out):
    """An account, without secrets."""

    id: int
    email: str
    full_name: str | None
    is_active: bool
    created_at: datetime


class LoginIn(In):
    """Credentials."""

    email: Annotated[str, Field(max_length=320)]
    password: Password


class AccessTokenOut(BaseModel):
    """A bearer access token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ForgotPasswordIn(In):
    """Ask for a reset token by email."""

    email: Annotated[str, Field(max_length=320)]


class ResetPasswordIn(In):
    """Choose a new password with a mailed token; the token only works for the account it was mailed to."""

    email: Annotated[str, Field(max_length=320)]
    token: Annotated[str, Field(min_length=1, max_length=200)]
    new_password: Password


class PlanFeatureOut(BaseModel):
    """A feature of a plan and its limit per period (None = unlimited)."""

    code: str
    name: str
    limit: int | None
    period: UsagePeriod


class PlanOut(BaseModel):
    """A tariff plan."""

    code: str
    name: str
    description: str | None
    price: Decimal
    currency: str
    billing_interval: BillingInterval
    trial_days: int
    features: list[PlanFeatureOut]


class AddonOut(Out):
    """An add-on for sale."""

    code: str
    name: str
    price: Decimal
    currency: str
    billing_interval: BillingInterval
    extra_limit: int | None


class BundleOut(Out):
    """A token bundle for sale."""

    code: str
    name: str
    tokens: int
    price: Decimal
    currency: str


class SubscribeIn(In):
    """Checkout: a plan, optional add-on codes (a repeated code buys more than one), and whether to invoice now."""

    plan_code: Code
    addon_codes: Annotated[list[Code], Field(max_length=20)] = []
    issue_invoice: StrictBool = True


class CancelIn(In):
    """Cancel at the end of the period (default) or at once."""

    at_period_end: StrictBool = True


class SubscriptionAddonOut(BaseModel):
    """An add-on attached to a subscription."""

    code: str
    quantity: int
    unit_price: Decimal
    currency: str


class SubscriptionOut(BaseModel):
    """A subscription."""

    id: int
    plan_code: str
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    trial_ends_at: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None
    addons: list[SubscriptionAddonOut] | None = None


class InvoiceLineOut(Out):
    """One invoice line."""

    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    currency: str


class InvoiceOut(Out):
    """An invoice with its lines; total = subtotal - discounts + tax, subtotal = sum of line amounts."""

    id: int
    number: str
    status: InvoiceStatus
    subscription_id: int | None
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    period_start: datetime | None
    period_end: datetime | None
    issued_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    lines: list[InvoiceLineOut]


class CheckoutOut(BaseModel):
    """The subscription created at checkout and its first invoice."""

    subscription: SubscriptionOut
    invoice: InvoiceOut | None


class PaymentMethodIn(In):
    """A payment method already stored at a provider."""

    provider: PaymentProvider
    provider_method_id: Annotated[str, Field(min_length=1, max_length=255)]
    brand: Annotated[str, Field(max_length=30)] | None = None
    last4: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None
    exp_month: Annotated[int, Strict(), Field(ge=1, le=12)] | None = None
    exp_year: Annotated[int, Strict(), Field(ge=2000, le=2200)] | None = None
    make_default: StrictBool = False


class PaymentMethodOut(Out):
    """A stored payment method."""

    id: int
    provider: PaymentProvider
    provider_method_id: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    is_default: bool


class PurchaseIn(In):
    """Which of your payment methods to charge (default: your default method; none at all is a 402)."""

    payment_method_id: Id | None = None


class PurchaseOut(BaseModel):
    """A completed token bundle purchase and the balance after it."""

    purchase_id: int
    bundle_code: str
    tokens: int
    amount: Decimal
    currency: str
    payment_id: int
    provider: PaymentProvider
    balance: int


class TokenChangeIn(In):
    """An admin credit or debit; ``kind`` defaults to grant (credit) or consume (debit)."""

    amount: Annotated[int, Strict(), Field(gt=0, le=1_000_000_000)]
    kind: TokenTransactionKind | None = None
    description: Annotated[str, Field(max_length=255)] | None = None
    idempotency_key: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class TokenTransactionOut(Out):
    """One ledger entry: credits positive, debits negative."""

    id: int
    kind: TokenTransactionKind
    amount: int
    balance_after: int
    description: str | None
    created_at: datetime


class BalanceOut(BaseModel):
    """A balance and its newest ledger entries."""

    user_id: int
    balance: int
    transactions: list[TokenTransactionOut]


class UsageOut(BaseModel):
    """A usage counter for the current period."""

    feature: str
    used: int
    limit: int | None
    remaining: int | None
    period_start: datetime
    period_end: datetime


class RoleIn(In):
    """A role to grant."""

    role: Annotated[str, Field(min_length=1, max_length=50)]


class AccessOut(BaseModel):
    """A user's roles and the permissions they add up to."""

    user_id: int
    roles: list[str]
    permissions: list[str]
