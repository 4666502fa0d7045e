"""Idempotent reference data: plans, features and limits, add-ons, token bundles, roles, a demo admin.

Every insert is ``INSERT ... ON CONFLICT DO NOTHING`` on a natural key, so running the seed
again changes nothing. The admin's password comes from ``BILLING_ADMIN_PASSWORD`` or is
generated, and a generated one is printed once, when the user is created.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, make_url

from billing.models import (
    Addon,
    Base,
    Feature,
    Permission,
    PlanFeature,
    Role,
    TariffPlan,
    TokenBundle,
    User,
    UserRole,
    role_permissions,
)
from billing.models.enums import BillingInterval, UsagePeriod
from billing.security import hash_password

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD_ENV = "BILLING_ADMIN_PASSWORD"

PLANS: Sequence[Mapping[str, Any]] = (
    {"code": "free", "name": "Free", "price": Decimal("0.00"), "trial_days": 0, "sort_order": 0},
    {"code": "pro", "name": "Pro", "price": Decimal("29.00"), "trial_days": 14, "sort_order": 1},
    {"code": "business", "name": "Business", "price": Decimal("99.00"), "trial_days": 14, "sort_order": 2},
)

FEATURES: Sequence[Mapping[str, str]] = (
    {"code": "api_calls", "name": "API calls"},
    {"code": "projects", "name": "Projects"},
    {"code": "team_members", "name": "Team members"},
    {"code": "priority_support", "name": "Priority support"},
    {"code": "custom_domain", "name": "Custom domain"},
)

DAY, MONTH = UsagePeriod.DAY, UsagePeriod.MONTH
# plan code -> feature code -> (limit per period, period); a None limit means unlimited.
PLAN_LIMITS: Mapping[str, Mapping[str, tuple[int | None, UsagePeriod]]] = {
    "free": {"api_calls": (100, DAY), "projects": (3, MONTH), "team_members": (1, MONTH)},
    "pro": {
        "api_calls": (10_000, DAY),
        "projects": (50, MONTH),
        "team_members": (5, MONTH),
        "priority_support": (None, MONTH),
    },
    "business": {
        "api_calls": (None, DAY),
        "projects": (None, MONTH),
        "team_members": (50, MONTH),
        "priority_support": (None, MONTH),
        "custom_domain": (None, MONTH),
    },
}

# add-on code -> (name, monthly price, feature it extends, extra limit)
ADDONS: Mapping[str, tuple[str, Decimal, str, int]] = {
    "extra_seats": ("5 extra team members", Decimal("10.00"), "team_members", 5),
    "extra_api_calls": ("50,000 extra API calls a day", Decimal("15.00"), "api_calls", 50_000),
    "extra_projects": ("25 extra projects", Decimal("8.00"), "projects", 25),
}

TOKEN_BUNDLES: Sequence[Mapping[str, Any]] = (
    {"code": "tokens_1k", "name": "1,000 tokens", "tokens": 1_000, "price": Decimal("5.00")},
    {"code": "tokens_10k", "name": "10,000 tokens", "tokens": 10_000, "price": Decimal("40.00")},
    {"code": "tokens_100k", "name": "100,000 tokens", "tokens": 100_000, "price": Decimal("300.00")},
)

PERMISSIONS: Mapping[str, str] = {
    "users:read": "See users",
    "users:write": "Create, change and deactivate users",
    "roles:write": "Grant and revoke roles",
    "plans:read": "See tariff plans, features and add-ons",
    "plans:write": "Change tariff plans, features and add-ons",
    "subscriptions:read": "See subscriptions",
    "subscriptions:write": "Change and cancel subscriptions",
    "invoices:read": "See invoices",
    "invoices:write": "Issue and void invoices",
    "payments:read": "See payments",
    "payments:refund": "Refund payments",
    "tokens:read": "See token balances and transactions",
    "tokens:write": "Grant and adjust tokens",
    "audit:read": "Read the audit log",
    "account:read": "See one's own account",
    "payments:write": "Add one's own payment methods and pay with them",
    "usage:read": "See one's own feature usage",
    "usage:write": "Use metered features",
}

ROLES: Mapping[str, tuple[str, Sequence[str]]] = {
    "admin": ("Everything", tuple(PERMISSIONS)),
    "billing_manager": (
        "Runs billing: plans read-only, subscriptions, invoices, payments, tokens",
        (
            "users:read",
            "plans:read",
            "subscriptions:read",
            "subscriptions:write",
            "invoices:read",
            "invoices:write",
            "payments:read",
            "payments:refund",
            "tokens:read",
            "tokens:write",
        ),
    ),
    # A customer: every self-service route checks one of these; the routes only ever touch the caller's own rows.
    "member": (
        "A customer",
        (
            "account:read",
            "plans:read",
            "subscriptions:read",
            "subscriptions:write",
            "invoices:read",
            "payments:read",
            "payments:write",
            "tokens:read",
            "usage:read",
            "usage:write",
        ),
    ),
}


def _table(model: type[Base]) -> sa.Table:
    return Base.metadata.tables[model.__tablename__]


def _insert_missing(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]], key: str) -> dict[str, int]:
    """Insert the rows whose ``key`` is not there yet; return key -> id for all of them."""
    conn.execute(pg_insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=[key]))
    keys = [row[key] for row in rows]
    result = conn.execute(sa.select(table.c[key], table.c.id).where(table.c[key].in_(keys)))
    return {str(k): int(i) for k, i in result}


def _seed_catalogue(conn: Connection) -> None:
    plans = _insert_missing(
        conn,
        _table(TariffPlan),
        [{**p, "currency": "USD", "billing_interval": BillingInterval.MONTH} for p in PLANS],
        "code",
    )
    features = _insert_missing(conn, _table(Feature), FEATURES, "code")
    plan_features = [
        {"plan_id": plans[plan], "feature_id": features[feature], "usage_limit": limit, "period": period}
        for plan, limits in PLAN_LIMITS.items()
        for feature, (limit, period) in limits.items()
    ]
    conn.execute(
        pg_insert(_table(PlanFeature))
        .values(plan_features)
        .on_conflict_do_nothing(index_elements=["plan_id", "feature_id"])
    )
    addons = [
        {
            "code": code,
            "name": name,
            "price": price,
            "currency": "USD",
            "billing_interval": BillingInterval.MONTH,
            "feature_id": features[feature],
            "extra_limit": extra,
        }
        for code, (name, price, feature, extra) in ADDONS.items()
    ]
    _insert_missing(conn, _table(Addon), addons, "code")
    _insert_missing(conn, _table(TokenBundle), [{**b, "currency": "USD"} for b in TOKEN_BUNDLES], "code")


def _seed_rbac(conn: Connection) -> dict[str, int]:
    permissions = _insert_missing(
        conn, _table(Permission), [{"code": c, "description": d} for c, d in PERMISSIONS.items()], "code"
    )
    roles = _insert_missing(
        conn,
        _table(Role),
        [{"name": name, "description": desc, "is_system": True} for name, (desc, _) in ROLES.items()],
        "name",
    )
    pairs = [
        {"role_id": roles[name], "permission_id": permissions[code]}
        for name, (_, codes) in ROLES.items()
        for code in codes
    ]
    conn.execute(pg_insert(role_permissions).values(pairs).on_conflict_do_nothing())
    return roles


def _seed_admin(conn: Connection, admin_role_id: int) -> None:
    users = _table(User)
    user_id = conn.execute(sa.select(users.c.id).where(users.c.email == ADMIN_EMAIL)).scalar_one_or_none()
    if user_id is None:
        given = os.environ.get(ADMIN_PASSWORD_ENV)
        password = given or secrets.token_urlsafe(18)
        stmt = (
            pg_insert(users)
            .values(
                email=ADMIN_EMAIL,
                password_hash=hash_password(password),
                full_name="Demo Admin",
                email_verified_at=sa.func.now(),
            )
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(users.c.id)
        )
        user_id = conn.execute(stmt).scalar_one_or_none()
        if user_id is not None:
            if given:
                print(f"seed: created {ADMIN_EMAIL} with the password from {ADMIN_PASSWORD_ENV}")
            else:
                print(f"seed: created {ADMIN_EMAIL} with generated password: {password}")
        else:  # created concurrently by another seed run
            user_id = conn.execute(sa.select(users.c.id).where(users.c.email == ADMIN_EMAIL)).scalar_one()
    conn.execute(pg_insert(_table(UserRole)).values(user_id=user_id, role_id=admin_role_id).on_conflict_do_nothing())


def seed_connection(conn: Connection) -> None:
    """Load the reference data through ``conn``; the caller commits."""
    _seed_catalogue(conn)
    roles = _seed_rbac(conn)
    _seed_admin(conn, roles["admin"])


def seed(url: str) -> None:
    """Load the reference data into the database at ``url``: the catalogue, then roles and the admin.

    Two transactions: on a database whose migrations lag behind the models (no RBAC tables yet),
    the catalogue still loads and the error names the table that is missing.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(parsed, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            _seed_catalogue(conn)
        with engine.begin() as conn:
            roles = _seed_rbac(conn)
            _seed_admin(conn, roles["admin"])
    finally:
        engine.dispose()
