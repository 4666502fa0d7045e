"""The schema's constraints really reject bad rows, on a database migrated to head."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from billing.models import (
    AuditLog,
    Base,
    Coupon,
    Feature,
    FeatureUsage,
    Invoice,
    PasswordResetToken,
    Role,
    Subscription,
    TariffPlan,
    TokenBalance,
    TokenTransaction,
    User,
    UserRole,
    UserSession,
    WebhookEvent,
)
from billing.models.enums import (
    BillingInterval,
    DiscountType,
    PaymentProvider,
    SubscriptionStatus,
    TokenTransactionKind,
)

T0 = datetime(2026, 2, 1, tzinfo=timezone.utc)
_serial = itertools.count(1)


def insert(conn: Connection, model: type[Base], **values: Any) -> int:
    """Insert one row of ``model``; return its id (or user_id for tables keyed by it)."""
    table = Base.metadata.tables[model.__tablename__]
    key = table.c.id if "id" in table.c else table.c.user_id
    return int(conn.execute(sa.insert(table).values(**values).returning(key)).scalar_one())


@contextmanager
def rejected_by(conn: Connection, constraint: str) -> Iterator[None]:
    """Expect an IntegrityError from ``constraint``; the savepoint keeps the test's transaction usable."""
    with pytest.raises(IntegrityError) as caught, conn.begin_nested():
        yield
    assert caught.value.orig is not None
    assert caught.value.orig.diag.constraint_name == constraint  # type: ignore[attr-defined]


def new_user(conn: Connection) -> int:
    return insert(conn, User, email=f"user{next(_serial)}@example.com", password_hash="x")


def new_feature(conn: Connection) -> int:
    return insert(conn, Feature, code=f"feature_{next(_serial)}", name="A feature")


def new_plan(conn: Connection) -> int:
    return insert(
        conn,
        TariffPlan,
        code=f"plan_{next(_serial)}",
        name="Plan",
        price=Decimal("9.00"),
        currency="USD",
        billing_interval=BillingInterval.MONTH,
    )


def count(conn: Connection, model: type[Base], **where: Any) -> int:
    table = Base.metadata.tables[model.__tablename__]
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    return int(conn.execute(query).scalar_one())


def test_token_balance_cannot_go_negative_and_is_one_row_per_user(db_connection: Connection) -> None:
    user = new_user(db_connection)
    with rejected_by(db_connection, "ck_token_balances_balance_nonnegative"):
        insert(db_connection, TokenBalance, user_id=user, balance=-1)
    insert(db_connection, TokenBalance, user_id=user, balance=0)
    with rejected_by(db_connection, "uq_token_balances_user_id"):
        insert(db_connection, TokenBalance, user_id=user, balance=5)
    with rejected_by(db_connection, "ck_token_balances_balance_nonnegative"):
        db_connection.execute(
            sa.text("UPDATE token_balances SET balance = balance - 1 WHERE user_id = :u"), {"u": user}
        )
    assert count(db_connection, TokenBalance, user_id=user) == 1


def test_token_transaction_sign_must_match_its_kind(db_connection: Connection) -> None:
    user = new_user(db_connection)
    insert(db_connection, TokenTransaction, user_id=user, kind=TokenTransactionKind.GRANT, amount=10, balance_after=10)
    insert(db_connection, TokenTransaction, user_id=user, kind=TokenTransactionKind.CONSUME, amount=-4, balance_after=6)
    with rejected_by(db_connection, "ck_token_transactions_amount_sign_matches_kind"):
        insert(
            db_connection, TokenTransaction, user_id=user, kind=TokenTransactionKind.CONSUME, amount=4, balance_after=2
        )
    with rejected_by(db_connection, "ck_token_transactions_balance_after_nonnegative"):
        insert(
            db_connection,
            TokenTransaction,
            user_id=user,
            kind=TokenTransactionKind.CONSUME,
            amount=-9,
            balance_after=-3,
        )


def test_feature_usage_is_one_row_per_user_feature_and_period(db_connection: Connection) -> None:
    user, feature = new_user(db_connection), new_feature(db_connection)
    period = {"period_start": T0, "period_end": T0 + timedelta(days=1)}
    insert(db_connection, FeatureUsage, user_id=user, feature_id=feature, used_count=3, **period)
    with rejected_by(db_connection, "uq_feature_usage_user_id_feature_id_period_start"):
        insert(db_connection, FeatureUsage, user_id=user, feature_id=feature, **period)
    next_day = {"period_start": T0 + timedelta(days=1), "period_end": T0 + timedelta(days=2)}
    insert(db_connection, FeatureUsage, user_id=user, feature_id=feature, **next_day)
    assert count(db_connection, FeatureUsage, user_id=user) == 2


def test_feature_usage_rejects_negative_counts_and_empty_periods(db_connection: Connection) -> None:
    user, feature = new_user(db_connection), new_feature(db_connection)
    with rejected_by(db_connection, "ck_feature_usage_used_count_nonnegative"):
        insert(
            db_connection,
            FeatureUsage,
            user_id=user,
            feature_id=feature,
            period_start=T0,
            period_end=T0 + timedelta(days=1),
            used_count=-1,
        )
    for end in (T0, T0 - timedelta(seconds=1)):
        with rejected_by(db_connection, "ck_feature_usage_period_end_after_start"):
            insert(db_connection, FeatureUsage, user_id=user, feature_id=feature, period_start=T0, period_end=end)


def test_dangling_foreign_keys_are_rejected(db_connection: Connection) -> None:
    user = new_user(db_connection)
    with rejected_by(db_connection, "fk_feature_usage_feature_id_features"):
        insert(
            db_connection,
            FeatureUsage,
            user_id=user,
            feature_id=987_654_321,
            period_start=T0,
            period_end=T0 + timedelta(days=1),
        )
    with rejected_by(db_connection, "fk_password_reset_tokens_user_id_users"):
        insert(
            db_connection,
            PasswordResetToken,
            user_id=987_654_321,
            token_hash="h",
            expires_at=datetime.now(timezone.utc) + timedelta(hours=1),
        )


def test_subscription_period_must_end_after_it_starts(db_connection: Connection) -> None:
    user, plan = new_user(db_connection), new_plan(db_connection)
    with rejected_by(db_connection, "ck_subscriptions_period_end_after_start"):
        insert(
            db_connection,
            Subscription,
            user_id=user,
            plan_id=plan,
            status=SubscriptionStatus.ACTIVE,
            current_period_start=T0,
            current_period_end=T0,
        )


def test_a_user_has_at_most_one_live_subscription(db_connection: Connection) -> None:
    user, plan = new_user(db_connection), new_plan(db_connection)
    period = {"current_period_start": T0, "current_period_end": T0 + timedelta(days=30)}
    insert(db_connection, Subscription, user_id=user, plan_id=plan, status=SubscriptionStatus.CANCELED, **period)
    insert(db_connection, Subscription, user_id=user, plan_id=plan, status=SubscriptionStatus.ACTIVE, **period)
    with rejected_by(db_connection, "uq_subscriptions_user_id_live"):
        insert(db_connection, Subscription, user_id=user, plan_id=plan, status=SubscriptionStatus.TRIALING, **period)
    insert(db_connection, Subscription, user_id=user, plan_id=plan, status=SubscriptionStatus.EXPIRED, **period)
    assert count(db_connection, Subscription, user_id=user) == 3


def test_a_role_is_granted_to_a_user_once(db_connection: Connection) -> None:
    user = new_user(db_connection)
    role = insert(db_connection, Role, name=f"role_{next(_serial)}")
    insert(db_connection, UserRole, user_id=user, role_id=role)
    with rejected_by(db_connection, "pk_user_roles"):
        insert(db_connection, UserRole, user_id=user, role_id=role)


def test_unique_email_coupon_code_and_webhook_event(db_connection: Connection) -> None:
    insert(db_connection, User, email="same@example.com", password_hash="x")
    with rejected_by(db_connection, "uq_users_email"):
        insert(db_connection, User, email="same@example.com", password_hash="y")
    with rejected_by(db_connection, "ck_users_email_lowercase"):
        insert(db_connection, User, email="Upper@example.com", password_hash="y")

    coupon = {"code": "WELCOME10", "discount_type": DiscountType.PERCENT, "percent_off": Decimal("10")}
    insert(db_connection, Coupon, **coupon)
    with rejected_by(db_connection, "uq_coupons_code"):
        insert(db_connection, Coupon, **coupon)
    with rejected_by(db_connection, "ck_coupons_discount_shape"):
        insert(db_connection, Coupon, code="BROKEN", discount_type=DiscountType.FIXED, amount_off=Decimal("5"))

    event = {"event_id": "evt_1", "event_type": "invoice.paid", "payload": {}}
    insert(db_connection, WebhookEvent, provider=PaymentProvider.STRIPE, **event)
    insert(db_connection, WebhookEvent, provider=PaymentProvider.PAYPAL, **event)
    with rejected_by(db_connection, "uq_webhook_events_provider_event_id"):
        insert(db_connection, WebhookEvent, provider=PaymentProvider.STRIPE, **event)


def test_money_cannot_be_negative(db_connection: Connection) -> None:
    user = new_user(db_connection)
    with rejected_by(db_connection, "ck_invoices_total_nonnegative"):
        insert(db_connection, Invoice, user_id=user, number="INV-NEG", currency="USD", total=Decimal("-0.01"))
    with rejected_by(db_connection, "ck_tariff_plans_price_nonnegative"):
        insert(
            db_connection,
            TariffPlan,
            code="negative",
            name="Negative",
            price=Decimal("-1"),
            currency="USD",
            billing_interval=BillingInterval.MONTH,
        )
    with rejected_by(db_connection, "ck_invoices_currency_format"):
        insert(db_connection, Invoice, user_id=user, number="INV-CUR", currency="usd")


def test_deleting_a_user_cascades_to_their_rows_and_keeps_the_audit_log(db_connection: Connection) -> None:
    user, feature = new_user(db_connection), new_feature(db_connection)
    role = insert(db_connection, Role, name=f"role_{next(_serial)}")
    insert(db_connection, UserRole, user_id=user, role_id=role)
    insert(db_connection, TokenBalance, user_id=user, balance=7)
    insert(db_connection, TokenTransaction, user_id=user, kind=TokenTransactionKind.GRANT, amount=7, balance_after=7)
    insert(
        db_connection,
        FeatureUsage,
        user_id=user,
        feature_id=feature,
        period_start=T0,
        period_end=T0 + timedelta(days=1),
    )
    insert(db_connection, UserSession, user_id=user, token_hash=f"s{user}", expires_at=T0 + timedelta(days=3650))
    log = insert(db_connection, AuditLog, user_id=user, action="login", entity_type="user", entity_id=str(user))
    dependents = (UserRole, TokenBalance, TokenTransaction, FeatureUsage, UserSession)
    assert [count(db_connection, m, user_id=user) for m in dependents] == [1, 1, 1, 1, 1]

    db_connection.execute(sa.delete(Base.metadata.tables["users"]).where(Base.metadata.tables["users"].c.id == user))

    assert [count(db_connection, m, user_id=user) for m in dependents] == [0, 0, 0, 0, 0]
    assert count(db_connection, Role, id=role) == 1
    audit = Base.metadata.tables["audit_logs"]
    assert db_connection.execute(sa.select(audit.c.user_id).where(audit.c.id == log)).scalar_one() is None


def test_a_user_with_invoices_cannot_be_deleted(db_connection: Connection) -> None:
    user = new_user(db_connection)
    insert(db_connection, Invoice, user_id=user, number=f"INV-{user}", currency="EUR")
    users = Base.metadata.tables["users"]
    with rejected_by(db_connection, "fk_invoices_user_id_users"):
        db_connection.execute(sa.delete(users).where(users.c.id == user))
    assert count(db_connection, User, id=user) == 1


def test_deleting_a_role_removes_its_grants(db_connection: Connection) -> None:
    user = new_user(db_connection)
    role = insert(db_connection, Role, name=f"role_{next(_serial)}")
    insert(db_connection, UserRole, user_id=user, role_id=role)
    roles = Base.metadata.tables["roles"]
    db_connection.execute(sa.delete(roles).where(roles.c.id == role))
    assert count(db_connection, UserRole, user_id=user) == 0
    assert count(db_connection, User, id=user) == 1
