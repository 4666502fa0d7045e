"""The seed loads the reference data once: a second run changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

import billing.models
from billing.seed import ADMIN_EMAIL, ADMIN_PASSWORD_ENV, seed
from dbops.core.dburl import URL
from dbops.core.urls import plain_url


def table_contents(url: URL) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the metadata, sorted, keyed by table name."""
    engine = sa.create_engine(plain_url(url))
    try:
        with engine.connect() as conn:
            return {
                name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
                for name, table in billing.models.metadata.tables.items()
            }
    finally:
        engine.dispose()


def query(url: URL, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(plain_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def test_seeding_twice_changes_nothing_and_prints_the_admin_once(
    migrated_database: URL, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADMIN_PASSWORD_ENV, raising=False)
    seed(plain_url(migrated_database))
    first_output = capsys.readouterr().out
    after_first = table_contents(migrated_database)

    seed(plain_url(migrated_database))
    second_output = capsys.readouterr().out
    after_second = table_contents(migrated_database)

    assert after_second == after_first
    counts = {name: len(rows) for name, rows in after_first.items() if rows}
    assert counts == {
        "tariff_plans": 3,
        "features": 5,
        "plan_features": 12,
        "addons": 3,
        "token_bundles": 3,
        "permissions": 18,
        "roles": 3,
        "role_permissions": 38,
        "users": 1,
        "user_roles": 1,
    }
    assert first_output.count(ADMIN_EMAIL) == 1
    assert ADMIN_EMAIL not in second_output
    generated = first_output.strip().rsplit(": ", 1)[1]
    (stored_hash,) = query(migrated_database, "SELECT password_hash FROM users WHERE email = :e", e=ADMIN_EMAIL)[0]
    assert PasswordHasher().verify(stored_hash, generated)


def test_the_admin_password_comes_from_the_environment(
    migrated_database: URL, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "correct horse battery staple"
    monkeypatch.setenv(ADMIN_PASSWORD_ENV, password)
    seed(plain_url(migrated_database))
    output = capsys.readouterr().out
    assert password not in output
    assert ADMIN_EMAIL in output
    (stored_hash,) = query(migrated_database, "SELECT password_hash FROM users WHERE email = :e", e=ADMIN_EMAIL)[0]
    assert stored_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(stored_hash, password)

    monkeypatch.setenv(ADMIN_PASSWORD_ENV, "a different password")
    seed(plain_url(migrated_database))
    (unchanged,) = query(migrated_database, "SELECT password_hash FROM users WHERE email = :e", e=ADMIN_EMAIL)[0]
    assert unchanged == stored_hash


def test_roles_plans_and_limits_are_the_documented_ones(migrated_database: URL) -> None:
    seed(plain_url(migrated_database).replace("postgresql+psycopg://", "postgresql://"))
    grants = query(
        migrated_database,
        "SELECT r.name, p.code FROM role_permissions rp JOIN roles r ON r.id = rp.role_id"
        " JOIN permissions p ON p.id = rp.permission_id",
    )
    by_role: dict[str, set[str]] = {}
    for role, code in grants:
        by_role.setdefault(role, set()).add(code)
    all_codes = {code for (code,) in query(migrated_database, "SELECT code FROM permissions")}
    assert by_role["admin"] == all_codes
    assert {"plans:write", "users:write", "roles:write"}.isdisjoint(by_role["billing_manager"])
    assert {"invoices:read", "tokens:write", "payments:refund"} <= by_role["billing_manager"]
    # A member holds the self-service permissions only: nothing that reaches other users or the catalogue.
    assert by_role["member"] == {
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
    }
    assert {"plans:write", "users:read", "users:write", "roles:write", "tokens:write"}.isdisjoint(by_role["member"])

    limits = query(
        migrated_database,
        "SELECT t.code, f.code, pf.usage_limit, pf.period::text FROM plan_features pf"
        " JOIN tariff_plans t ON t.id = pf.plan_id JOIN features f ON f.id = pf.feature_id"
        " WHERE f.code = 'api_calls' ORDER BY t.sort_order",
    )
    assert limits == [
        ("free", "api_calls", 100, "day"),
        ("pro", "api_calls", 10_000, "day"),
        ("business", "api_calls", None, "day"),
    ]
    admin_roles = query(
        migrated_database,
        "SELECT r.name FROM user_roles ur JOIN users u ON u.id = ur.user_id JOIN roles r ON r.id = ur.role_id"
        " WHERE u.email = :e",
        e=ADMIN_EMAIL,
    )
    assert admin_roles == [("admin",)]
