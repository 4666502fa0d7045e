"""Request and response bodies; money is Decimal (serialized as a string) with its currency."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AliasChoices,
    AliasPath,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    StrictBool,
    field_validator,
    model_validator,
)

from billing.models import (
    BillingInterval,
    InvoiceStatus,
    PaymentProvider,
    Subscription,
    SubscriptionAddon,
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
# A provider's token for a payment method: a letter first (a card number never starts with one).
TOKEN_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{1,254}$"


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

    # A field read from elsewhere on the object (plan.code) also accepts its own name, so a body built by
    # hand, or dumped and re-validated (as some FastAPI versions do with a returned model), validates too.
    # A response body's docstring is its description in the OpenAPI document: changing one changes the API.

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


class PlanFeatureOut(Out):
    """A feature of a plan and its limit per period (None = unlimited)."""

    # Built from a PlanFeature: code and name are its feature's, limit is its usage_limit.
    code: str = Field(validation_alias=AliasChoices(AliasPath("feature", "code"), "code"))
    name: str = Field(validation_alias=AliasChoices(AliasPath("feature", "name"), "name"))
    limit: int | None = Field(validation_alias=AliasChoices("usage_limit", "limit"))
    period: UsagePeriod


class PlanOut(Out):
    """A tariff plan."""

    # Built from a TariffPlan: features are its plan_features, in feature-code order.
    code: str
    name: str
    description: str | None
    price: Decimal
    currency: str
    billing_interval: BillingInterval
    trial_days: int
    features: list[PlanFeatureOut] = Field(validation_alias=AliasChoices("plan_features", "features"))

    @field_validator("features")
    @classmethod
    def _by_code(cls, features: list[PlanFeatureOut]) -> list[PlanFeatureOut]:
        # The relationship loads in no particular order; the body lists features by code.
        return sorted(features, key=lambda feature: feature.code)


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


class SubscriptionAddonOut(Out):
    """An add-on attached to a subscription."""

    # Built from a SubscriptionAddon: code is its add-on's.
    code: str = Field(validation_alias=AliasChoices(AliasPath("addon", "code"), "code"))
    quantity: int
    unit_price: Decimal
    currency: str


class SubscriptionFields(Out):
    """A subscription's own fields and its plan's code: every field of ``SubscriptionOut`` but its add-ons."""

    id: int
    plan_code: str = Field(validation_alias=AliasChoices(AliasPath("plan", "code"), "plan_code"))
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    trial_ends_at: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None


class SubscriptionOut(SubscriptionFields):
    """A subscription."""

    # Build it with ``of``: ``addons`` is null unless the caller loaded the open ones.
    addons: list[SubscriptionAddonOut] | None = None

    @classmethod
    def of(cls, subscription: Subscription, addons: Sequence[SubscriptionAddon] | None = None) -> SubscriptionOut:
        """The body for ``subscription`` with the open ``addons`` the caller loaded (None leaves them null)."""
        # Never validate the Subscription itself as a SubscriptionOut: its ``addons`` relationship holds
        # ended add-ons too, and loading it is one more query.
        fields = SubscriptionFields.model_validate(subscription)
        return cls.model_validate({**dict(fields), "addons": addons})


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
    """A payment method the provider tokenised: its token (``pm_...``), never card details.

    Brand, last four digits and expiry come from the provider; the token is also accepted under its
    older name ``provider_method_id``.
    """

    provider: PaymentProvider
    token: Annotated[str, Field(pattern=TOKEN_PATTERN, validation_alias=AliasChoices("token", "provider_method_id"))]
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


class UsageOut(Out):
    """A usage counter for the current period."""

    # Built from a UsageResult (remaining is its property).
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
