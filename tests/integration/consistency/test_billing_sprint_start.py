"""The sprint start of billing: at 0003_provider_columns the engine reports the 9 sprint tables (and later) missing."""

from __future__ import annotations

import pytest

import billing.models  # noqa: F401 - a broken models module must fail these tests, not skip them
from dbops import migrations
from dbops.checks import run_checks, status_metrics
from dbops.core.config import Settings
from dbops.core.dburl import URL

# The sprint's nine tables (0004..0008) and those that came after it (0010, 0011).
MISSING = [
    "auth_throttles",
    "feature_usage",
    "idempotency_records",
    "mail_outbox",
    "password_reset_tokens",
    "permissions",
    "role_permissions",
    "roles",
    "subscription_addons",
    "token_balances",
    "token_transactions",
    "user_roles",
]


@pytest.fixture()
def sprint_start(dbops_settings: Settings, empty_database: URL) -> URL:
    """A billing database at the sprint-start revision."""
    assert dbops_settings.pipeline.sprint_start == "0003_provider_columns"
    migrations.upgrade(dbops_settings, empty_database, dbops_settings.pipeline.sprint_start)
    return empty_database


def test_the_nine_sprint_tables_and_the_later_throttle_are_missing(dbops_settings: Settings, sprint_start: URL) -> None:
    result = run_checks(dbops_settings, sprint_start)
    assert sorted(f.object for f in result.by_rule("C1")) == MISSING
    # Each one is created by a pending revision, so the fix is to migrate, not to write a migration.
    assert {f.hint for f in result.by_rule("C1")} == {"dbops migrate"}
    # The 20 tables that exist lack only what 0009 adds to payments and 0011 to payment_methods (after the
    # sprint); C6 says the database is behind.
    assert [(f.rule, f.object) for f in result.findings if f.rule != "C1-model-table"] == [
        ("C3-columns", "payments.idempotency_key"),
        ("C4-constraints", "ck_payment_methods_provider_method_id_is_token"),
        ("C4-constraints", "uq_payments_user_id_idempotency_key"),
        ("C6-history", "0003_provider_columns"),
    ]
    assert "pending revisions 0004_password_reset, 0005_token_balances" in result.by_rule("C6")[0].message
    assert not result.ok


def test_status_block_at_sprint_start(dbops_settings: Settings, sprint_start: URL) -> None:
    assert status_metrics(dbops_settings, sprint_start) == {
        "total_models": 32,
        "models_with_tables": 20,
        "models_without_tables": 12,
        "missing_tables": 12,
        "existing_tables": 20,
        "migration_blockers": 0,
    }


def test_status_block_at_head(dbops_settings: Settings, migrated_database: URL) -> None:
    metrics = status_metrics(dbops_settings, migrated_database)
    assert metrics["missing_tables"] == 0
    assert metrics["existing_tables"] == metrics["total_models"] == 32
