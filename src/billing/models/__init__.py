"""The billing schema: every model module is imported here so ``metadata`` holds all 32 tables."""

from __future__ import annotations

from billing.models.auth import (
    ApiKey,
    AuditLog,
    AuthThrottle,
    EmailVerificationToken,
    MailOutbox,
    PasswordResetToken,
    User,
    UserSession,
)
from billing.models.base import NAMING_CONVENTION, Base
from billing.models.billing import (
    Coupon,
    CouponRedemption,
    IdempotencyRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
    WebhookEvent,
)
from billing.models.catalogue import Addon, Feature, PlanFeature, TariffPlan
from billing.models.enums import (
    BillingInterval,
    DiscountType,
    InvoiceStatus,
    MailStatus,
    PaymentProvider,
    PaymentStatus,
    SubscriptionEventType,
    SubscriptionStatus,
    TokenTransactionKind,
    UsagePeriod,
    WebhookEventStatus,
)
from billing.models.rbac import Permission, Role, UserRole, role_permissions
from billing.models.subscriptions import Subscription, SubscriptionAddon, SubscriptionEvent
from billing.models.tokens import TokenBalance, TokenBundle, TokenBundlePurchase, TokenTransaction
from billing.models.usage import FeatureUsage

metadata = Base.metadata

__all__ = [
    "NAMING_CONVENTION",
    "Addon",
    "ApiKey",
    "AuditLog",
    "AuthThrottle",
    "Base",
    "BillingInterval",
    "Coupon",
    "CouponRedemption",
    "DiscountType",
    "EmailVerificationToken",
    "Feature",
    "FeatureUsage",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "MailOutbox",
    "MailStatus",
    "PasswordResetToken",
    "Payment",
    "PaymentMethod",
    "PaymentProvider",
    "PaymentStatus",
    "Permission",
    "PlanFeature",
    "Role",
    "Subscription",
    "SubscriptionAddon",
    "SubscriptionEvent",
    "SubscriptionEventType",
    "SubscriptionStatus",
    "TariffPlan",
    "TokenBalance",
    "TokenBundle",
    "TokenBundlePurchase",
    "TokenTransaction",
    "TokenTransactionKind",
    "UsagePeriod",
    "User",
    "UserRole",
    "UserSession",
    "WebhookEvent",
    "WebhookEventStatus",
    "metadata",
    "role_permissions",
]
