"""The Alembic history of the billing schema, run against a real PostgreSQL server."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import IntegrityError

import billing.models
from billing.models import enums
from dbops import migrations
from dbops.core.config import Settings
from dbops.core.errors import MigrationError
from dbops.core.urls import libpq_url, plain_url

REVISIONS = (
    "0001_baseline",
    "0002_provider_enum",
    "0003_provider_columns",
    "0004_password_reset",
    "0005_token_balances",
    "0006_feature_usage",
    "0007_subscription_addons",
    "0008_rbac",
    "0009_payment_idempotency",
    "0010_auth_throttles",
    "0011_outbox_idempotency",
)
PRE_SPRINT_TABLES = {
    "users",
    "user_sessions",
    "email_verification_tokens",
    "api_keys",
    "audit_logs",
    "tariff_plans",
    "features",
    "plan_features",
    "addons",
    "subscriptions",
    "subscription_events",
    "invoices",
    "invoice_lines",
    "payments",
    "payment_methods",
    "coupons",
    "coupon_redemptions",
    "webhook_events",
    "token_bundles",
    "token_bundle_purchases",
}
SPRINT_TABLES = {
    "password_reset_tokens",
    "token_balances",
    "token_transactions",
    "feature_usage",
    "subscription_addons",
    "roles",
    "permissions",
    "role_permissions",
    "user_roles",
}
# Created after the sprint (0009 only adds a column to payments).
POST_SPRINT_TABLES = {"auth_throttles", "mail_outbox", "idempotency_records"}
PRE_SPRINT_ENUMS = {
    "billing_interval",
    "usage_period",
    "subscription_status",
    "subscription_event_type",
    "invoice_status",
    "payment_status",
    "discount_type",
    "webhook_event_status",
}
ENUM_TYPES = {
    "billing_interval": enums.BillingInterval,
    "usage_period": enums.UsagePeriod,
    "subscription_status": enums.SubscriptionStatus,
    "subscription_event_type": enums.SubscriptionEventType,
    "invoice_status": enums.InvoiceStatus,
    "payment_provider": enums.PaymentProvider,
    "payment_status": enums.PaymentStatus,
    "discount_type": enums.DiscountType,
    "webhook_event_status": enums.WebhookEventStatus,
    "token_transaction_kind": enums.TokenTransactionKind,
    "mail_status": enums.MailStatus,
}
# The provider columns before 0002/0003: table -> old free-text column.
OLD_PROVIDER_COLUMNS = {
    "invoices": "payment_gateway",
    "payment_methods": "provider_name",
    "payments": "gateway",
    "webhook_events": "source",
}


@contextmanager
def connected(url: URL) -> Iterator[Connection]:
    engine = create_engine(plain_url(url))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def run_sql(url: URL, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one statement in its own committed transaction; return its rows (if any)."""
    with connected(url) as conn:
        result = conn.execute(text(sql), params)
        rows = [tuple(r) for r in result] if result.returns_rows else []
        conn.commit()
    return rows


def columns_of(url: URL, table: str) -> set[str]:
    rows = run_sql(
        url,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = :t",
        t=table,
    )
    return {r[0] for r in rows}


def enum_types(url: URL) -> dict[str, list[str]]:
    rows = run_sql(
        url,
        "SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid "
        "WHERE t.typnamespace = 'public'::regnamespace ORDER BY t.typname, e.enumsortorder",
    )
    out: dict[str, list[str]] = {}
    for name, label in rows:
        out.setdefault(name, []).append(label)
    return out


def test_history_is_linear_with_the_expected_revision_ids(dbops_settings: Settings) -> None:
    history = migrations.history(dbops_settings)
    assert [rev for rev, _, _ in history] == list(REVISIONS)
    assert [down for _, down, _ in history] == [None, *REVISIONS[:-1]]
    assert dbops_settings.pipeline.sprint_start == "0003_provider_columns"


def test_round_trip_leaves_an_identical_catalog_and_base_is_empty(
    empty_database: URL, dbops_settings: Settings, snapshot: Callable[[URL], Any]
) -> None:
    migrations.upgrade(dbops_settings, empty_database, "head")
    first = snapshot(empty_database)
    assert len(first["tables"]) == 32

    migrations.downgrade(dbops_settings, empty_database, "base")
    assert migrations.current(dbops_settings, empty_database) is None
    at_base = snapshot(empty_database)
    assert at_base == {kind: [] for kind in at_base}, "base must leave no tables, sequences or types"

    migrations.upgrade(dbops_settings, empty_database, "head")
    assert snapshot(empty_database) == first


def test_round_trip_gives_an_identical_pg_dump(
    empty_database: URL, dbops_settings: Settings, schema_dump: Callable[[URL], str]
) -> None:
    migrations.upgrade(dbops_settings, empty_database, "head")
    first = schema_dump(empty_database)
    assert "CREATE TABLE public.user_roles" in first
    migrations.downgrade(dbops_settings, empty_database, "base")
    migrations.upgrade(dbops_settings, empty_database, "head")
    assert schema_dump(empty_database) == first


def test_every_downgrade_undoes_exactly_its_upgrade(
    empty_database: URL, dbops_settings: Settings, snapshot: Callable[[URL], Any]
) -> None:
    before = snapshot(empty_database)
    for previous, revision in zip(("base", *REVISIONS[:-1]), REVISIONS, strict=True):
        migrations.upgrade(dbops_settings, empty_database, revision)
        after = snapshot(empty_database)
        assert after != before, f"{revision} changed nothing"
        migrations.downgrade(dbops_settings, empty_database, previous)
        assert snapshot(empty_database) == before, f"downgrade of {revision} did not restore {previous}"
        migrations.upgrade(dbops_settings, empty_database, revision)
        before = after


def test_sprint_start_holds_exactly_the_20_pre_sprint_tables(empty_database: URL, dbops_settings: Settings) -> None:
    migrations.upgrade(dbops_settings, empty_database, "0003_provider_columns")
    tables = {r[0] for r in run_sql(empty_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == PRE_SPRINT_TABLES | {"alembic_version"}
    assert set(enum_types(empty_database)) == PRE_SPRINT_ENUMS | {"payment_provider"}


def test_head_has_the_32_tables_of_the_metadata_and_its_enum_types(migrated_database: URL) -> None:
    tables = {r[0] for r in run_sql(migrated_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    tables.discard("alembic_version")
    assert tables == set(billing.models.metadata.tables)
    assert tables == PRE_SPRINT_TABLES | SPRINT_TABLES | POST_SPRINT_TABLES
    assert len(tables) == 32
    found = enum_types(migrated_database)
    assert found == {name: [m.value for m in enum_cls] for name, enum_cls in ENUM_TYPES.items()}


def test_compare_metadata_is_empty_at_head(migrated_database: URL) -> None:
    with connected(migrated_database) as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "target_metadata": billing.models.metadata,
            },
        )
        diff = compare_metadata(context, billing.models.metadata)
    assert diff == []


def test_head_matches_create_all_including_checks_and_partial_indexes(
    migrated_database: URL, empty_database: URL, snapshot: Callable[[URL], Any]
) -> None:
    engine = create_engine(plain_url(empty_database))
    try:
        billing.models.metadata.create_all(engine)
    finally:
        engine.dispose()
    migrated, created = snapshot(migrated_database), snapshot(empty_database)
    for kind in migrated:
        assert migrated[kind] == created[kind], kind
    indexdefs = {row[1]: row[2] for row in migrated["indexes"]}
    assert "WHERE (status = ANY" in indexdefs["uq_subscriptions_user_id_live"]


def _with_a_user_at(url: URL, settings: Settings, revision: str) -> URL:
    """The database migrated to ``revision`` with user 1 in it; its URL."""
    migrations.upgrade(settings, url, revision)
    run_sql(url, "INSERT INTO users (id, email, password_hash) VALUES (1, 'a@example.com', 'x')")
    return url


def _insert_old_shape_rows(url: URL) -> None:
    run_sql(url, "INSERT INTO users (id, email, password_hash) VALUES (1, 'a@example.com', 'x')")
    run_sql(
        url,
        "INSERT INTO invoices (user_id, number, currency, payment_gateway) VALUES "
        "(1, 'INV-1', 'USD', 'Stripe'), (1, 'INV-2', 'USD', 'paypal '), (1, 'INV-3', 'USD', NULL),"
        " (1, 'INV-4', 'USD', 'BRAINTREE')",
    )
    run_sql(
        url,
        "INSERT INTO payment_methods (user_id, provider_name, provider_method_id) VALUES "
        "(1, ' PayPal', 'pm_1'), (1, 'stripe', 'pm_2'), (1, 'Braintree ', 'pm_3')",
    )
    run_sql(
        url,
        "INSERT INTO payments (user_id, gateway, provider_payment_id, amount, currency) VALUES "
        "(1, 'Stripe', 'pi_1', 10, 'USD'), (1, 'Pay Pal', 'pp_1', 5, 'USD'), (1, 'manual', NULL, 1, 'USD'),"
        " (1, 'Bank Transfer', NULL, 2, 'USD')",
    )
    run_sql(
        url,
        "INSERT INTO webhook_events (source, event_id, event_type, payload) VALUES "
        "('STRIPE', 'evt_1', 'invoice.paid', '{}'), ('paypal', 'evt_1', 'PAYMENT.CAPTURED', '{}')",
    )


def _providers(url: URL) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "invoices": run_sql(url, "SELECT number, provider::text FROM invoices ORDER BY number"),
        "payment_methods": run_sql(url, "SELECT provider_method_id, provider::text FROM payment_methods ORDER BY 1"),
        "payments": run_sql(url, "SELECT amount::int, provider::text FROM payments ORDER BY amount"),
        "webhook_events": run_sql(url, "SELECT event_type, provider::text FROM webhook_events ORDER BY 1"),
    }


EXPECTED_PROVIDERS = {
    "invoices": [("INV-1", "stripe"), ("INV-2", "paypal"), ("INV-3", None), ("INV-4", "braintree")],
    "payment_methods": [("pm_1", "paypal"), ("pm_2", "stripe"), ("pm_3", "braintree")],
    "payments": [(1, "manual"), (2, "manual"), (5, "paypal"), (10, "stripe")],
    "webhook_events": [("PAYMENT.CAPTURED", "paypal"), ("invoice.paid", "stripe")],
}


def test_provider_columns_are_converted_up_and_back_down(empty_database: URL, dbops_settings: Settings) -> None:
    url = empty_database
    migrations.upgrade(dbops_settings, url, "0001_baseline")
    _insert_old_shape_rows(url)
    assert "payment_provider" not in enum_types(url)

    migrations.upgrade(dbops_settings, url, "0002_provider_enum")
    assert _providers(url) == EXPECTED_PROVIDERS
    for table, old in OLD_PROVIDER_COLUMNS.items():
        assert {old, "provider"} <= columns_of(url, table)
    # A row written the old way while at 0002 is converted by 0003.
    run_sql(url, "INSERT INTO payments (user_id, gateway, amount, currency) VALUES (1, 'PAYPAL', 3, 'USD')")

    migrations.upgrade(dbops_settings, url, "0003_provider_columns")
    expected = {**EXPECTED_PROVIDERS, "payments": sorted([*EXPECTED_PROVIDERS["payments"], (3, "paypal")])}
    assert _providers(url) == expected
    for table, old in OLD_PROVIDER_COLUMNS.items():
        assert old not in columns_of(url, table)
    nullable = dict(
        run_sql(
            url,
            "SELECT table_name, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'provider'",
        )
    )
    assert nullable == {"invoices": "YES", "payment_methods": "NO", "payments": "NO", "webhook_events": "NO"}

    migrations.upgrade(dbops_settings, url, "head")
    migrations.downgrade(dbops_settings, url, "0001_baseline")
    assert "payment_provider" not in enum_types(url)
    for table in OLD_PROVIDER_COLUMNS:
        assert "provider" not in columns_of(url, table)
    assert run_sql(url, "SELECT number, payment_gateway FROM invoices ORDER BY number") == [
        ("INV-1", "Stripe"),
        ("INV-2", "PayPal"),
        ("INV-3", None),
        ("INV-4", "Braintree"),
    ]
    assert run_sql(url, "SELECT amount::int, gateway FROM payments ORDER BY amount") == [
        (1, "Manual"),
        (2, "Manual"),
        (3, "PayPal"),
        (5, "PayPal"),
        (10, "Stripe"),
    ]
    assert run_sql(url, "SELECT provider_method_id, provider_name FROM payment_methods ORDER BY 1") == [
        ("pm_1", "PayPal"),
        ("pm_2", "Stripe"),
        ("pm_3", "Braintree"),
    ]
    assert run_sql(url, "SELECT event_type, source FROM webhook_events ORDER BY 1") == [
        ("PAYMENT.CAPTURED", "PayPal"),
        ("invoice.paid", "Stripe"),
    ]


def test_unknown_provider_stops_the_upgrade_at_the_previous_revision(
    empty_database: URL, dbops_settings: Settings
) -> None:
    url = _with_a_user_at(empty_database, dbops_settings, "0001_baseline")
    run_sql(url, "INSERT INTO payments (user_id, gateway, amount, currency) VALUES (1, 'Adyen', 1, 'USD')")

    with pytest.raises(MigrationError, match="Adyen"):
        migrations.upgrade(dbops_settings, url, "head")

    assert migrations.current(dbops_settings, url) == "0002_provider_enum"
    assert {"gateway", "provider"} <= columns_of(url, "payments")
    assert run_sql(url, "SELECT gateway, provider FROM payments") == [("Adyen", None)]


def test_offline_mode_writes_the_sql(dbops_settings: Settings) -> None:
    cfg = Config(str(dbops_settings.alembic_ini), stdout=io.StringIO())
    cfg.output_buffer = io.StringIO()
    command.upgrade(cfg, "head", sql=True)
    sql = cfg.output_buffer.getvalue()
    assert "CREATE TYPE payment_provider AS ENUM ('stripe', 'paypal', 'braintree', 'manual')" in sql
    assert "CREATE TABLE user_roles" in sql
    assert "UPDATE alembic_version SET version_num='0011_outbox_idempotency'" in sql


def test_env_takes_a_plain_postgresql_url_from_the_attributes(empty_database: URL, dbops_settings: Settings) -> None:
    cfg = Config(str(dbops_settings.alembic_ini), stdout=io.StringIO())
    cfg.attributes["url"] = libpq_url(empty_database)  # postgresql://, no driver named
    command.upgrade(cfg, "0004_password_reset")
    assert migrations.current(dbops_settings, empty_database) == "0004_password_reset"


def test_env_without_any_database_says_so(dbops_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    cfg = Config(str(dbops_settings.alembic_ini), stdout=io.StringIO())
    with pytest.raises(RuntimeError, match="no database to migrate"):
        command.upgrade(cfg, "head")


def test_card_numbers_stored_before_0011_are_removed_and_kept_out(
    empty_database: URL, dbops_settings: Settings
) -> None:
    url = _with_a_user_at(empty_database, dbops_settings, "0010_auth_throttles")
    run_sql(
        url,
        "INSERT INTO payment_methods (user_id, provider, provider_method_id, last4) VALUES "
        "(1, 'stripe', '4242 4242 4242 4242', NULL), (1, 'stripe', 'pm_card_visa', '4242'),"
        " (1, 'stripe', '5555-5555-5555-4444', '4444')",
    )

    migrations.upgrade(dbops_settings, url, "0011_outbox_idempotency")
    rows = run_sql(url, "SELECT id, provider_method_id, last4 FROM payment_methods ORDER BY id")
    assert [(ref, last4) for _, ref, last4 in rows] == [
        (f"pm_removed_card_number_{rows[0][0]}", "4242"),
        ("pm_card_visa", "4242"),
        (f"pm_removed_card_number_{rows[2][0]}", "4444"),
    ]
    pan = "INSERT INTO payment_methods (user_id, provider, provider_method_id) VALUES (1, 'stripe', :ref)"
    with pytest.raises(IntegrityError, match="ck_payment_methods_provider_method_id_is_token"):
        run_sql(url, pan, ref="4000 0000 0000 0002")

    migrations.downgrade(dbops_settings, url, "0010_auth_throttles")
    assert {"mail_outbox", "idempotency_records"}.isdisjoint(
        r[0] for r in run_sql(url, "SELECT tablename FROM pg_tables")
    )
    assert "blocked_until" not in columns_of(url, "auth_throttles")
    assert "mail_status" not in enum_types(url)
    # The CHECK is gone with the downgrade; the removed numbers are not restored.
    run_sql(url, "INSERT INTO payment_methods (user_id, provider, provider_method_id) VALUES (1, 'stripe', '12')")
    assert len(run_sql(url, "SELECT 1 FROM payment_methods")) == 4
