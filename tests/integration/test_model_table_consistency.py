"""The six consistency tests of the sprint: each rule of the engine against the billing database at head."""

from __future__ import annotations

import billing.models  # noqa: F401 - a broken models module must fail these tests, not skip them
from dbops.checks import run_checks
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.report import finding_line


def assert_clean(settings: Settings, url: URL, rule: str) -> None:
    """Run one rule and fail with every finding, one per line, if there is any."""
    result = run_checks(settings, url, rules=[rule])
    lines = [finding_line(f) for f in result.findings]
    if lines:
        print("\n".join(lines))
    assert result.findings == [], "\n".join(lines)
    assert result.rules and result.rules[0].startswith(rule)


def test_every_model_has_a_table(dbops_settings: Settings, migrated_database: URL) -> None:
    """C1: no model without its table."""
    assert_clean(dbops_settings, migrated_database, "C1")


def test_every_table_has_a_model(dbops_settings: Settings, migrated_database: URL) -> None:
    """C2: no table without a model (alembic_version and allow_tables excepted)."""
    assert_clean(dbops_settings, migrated_database, "C2")


def test_columns_match(dbops_settings: Settings, migrated_database: URL) -> None:
    """C3: column presence, types, nullability and server defaults."""
    assert_clean(dbops_settings, migrated_database, "C3")


def test_constraints_and_indexes_match(dbops_settings: Settings, migrated_database: URL) -> None:
    """C4: primary keys, foreign keys, unique and CHECK constraints, indexes and their predicates."""
    assert_clean(dbops_settings, migrated_database, "C4")


def test_enum_types_match(dbops_settings: Settings, migrated_database: URL) -> None:
    """C5: every enum type exists with the same labels in the same order, and none is orphaned."""
    assert_clean(dbops_settings, migrated_database, "C5")


def test_migration_history_is_sound(dbops_settings: Settings, migrated_database: URL) -> None:
    """C6: one head, every revision reachable, unique ids, the database at head."""
    assert_clean(dbops_settings, migrated_database, "C6")
