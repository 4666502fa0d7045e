"""Each of C1-C5 proven able to fail: a database at head, broken with raw SQL, gives the exact finding."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dbops import migrations
from dbops.checks import run_checks
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError, DatabaseUnreachable
from dbops.core.findings import CheckResult
from dbops.report import finding_line


def objects(result: CheckResult, rule: str) -> list[str]:
    """The objects a rule's findings name, sorted."""
    return sorted(f.object for f in result.by_rule(rule))


def message(result: CheckResult, obj: str) -> str:
    """The message of the one finding about ``obj``."""
    found = [f for f in result.findings if f.object == obj]
    assert len(found) == 1, found
    return found[0].message


def test_head_is_clean(mini_project: Settings, mini_db: URL) -> None:
    result = run_checks(mini_project, mini_db)
    assert result.findings == [], [finding_line(f) for f in result.findings]
    assert result.ok
    assert result.metrics["models"] == 4
    assert result.metrics["tables"] == 4
    assert result.metrics["missing_tables"] == 0


def test_c1_missing_tables_created_by_pending_revision(mini_project: Settings, mini_empty: URL) -> None:
    migrations.upgrade(mini_project, mini_empty, "0002_books")
    result = run_checks(mini_project, mini_empty, rules=["C1"])
    assert objects(result, "C1") == ["book_tags", "tags"]
    assert {f.hint for f in result.findings} == {"dbops migrate"}
    assert "pending revision 0003_tags creates it" in message(result, "tags")
    assert result.metrics["missing_tables"] == 2
    assert result.metrics["models_with_tables"] == 2


def test_c1_missing_table_no_migration_creates(
    mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]
) -> None:
    run_sql(mini_db, "DROP TABLE book_tags")
    result = run_checks(mini_project, mini_db, rules=["C1-model-table"])
    assert objects(result, "C1") == ["book_tags"]
    assert result.findings[0].hint == 'dbops migrate.new -m "add book_tags"'
    assert result.findings[0].severity == "error"


def test_c2_table_without_model(mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]) -> None:
    run_sql(mini_db, "CREATE TABLE orphan (id int PRIMARY KEY)")
    result = run_checks(mini_project, mini_db, rules=["C2"])
    assert objects(result, "C2") == ["orphan"]
    assert "allow_tables" in result.findings[0].hint
    assert result.metrics["extra_tables"] == 1
    allowed = run_checks(mini_project.replace(allow_tables=("orphan",)), mini_db, rules=["C2"])
    assert allowed.findings == []


def test_c3_columns(mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]) -> None:
    run_sql(
        mini_db,
        "ALTER TABLE authors DROP COLUMN bio",
        "ALTER TABLE books ALTER COLUMN title TYPE text",
        "ALTER TABLE authors ALTER COLUMN name DROP NOT NULL",
        "ALTER TABLE books ALTER COLUMN price SET DEFAULT 5",
        "ALTER TABLE tags ADD COLUMN color text",
    )
    result = run_checks(mini_project, mini_db, rules=["C3"])
    assert objects(result, "C3") == ["authors.bio", "authors.name", "books.price", "books.title", "tags.color"]
    assert "does not exist in the database" in message(result, "authors.bio")
    assert "nullability: model NOT NULL, database NULL" in message(result, "authors.name")
    assert "server default" in message(result, "books.price")
    # Both sides as PostgreSQL prints them (format_type), not as the models or a revision spell them.
    assert "type: model character varying(200), database text" in message(result, "books.title")
    assert "has no model attribute" in message(result, "tags.color")


def test_c4_constraints_and_indexes(mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]) -> None:
    run_sql(
        mini_db,
        "DROP INDEX ix_books_author_id",
        "DROP INDEX ix_books_title_published",
        "CREATE INDEX ix_books_title_published ON books (title) WHERE status = 'draft'",
        "ALTER TABLE books DROP CONSTRAINT ck_books_price_nonnegative",
        "ALTER TABLE books ADD CONSTRAINT ck_books_price_nonnegative CHECK (price > 0)",
        "ALTER TABLE authors DROP CONSTRAINT ck_authors_name_not_empty",
        "ALTER TABLE tags ADD CONSTRAINT ck_tags_name_short CHECK (length(name) < 40)",
        "ALTER TABLE books DROP CONSTRAINT fk_books_author_id_authors",
        "ALTER TABLE books ADD CONSTRAINT fk_books_author_id_authors FOREIGN KEY (author_id)"
        " REFERENCES authors (id) ON DELETE RESTRICT",
        "ALTER TABLE tags DROP CONSTRAINT uq_tags_name",
        "ALTER TABLE book_tags DROP CONSTRAINT pk_book_tags",
        "ALTER TABLE book_tags ADD CONSTRAINT pk_book_tags PRIMARY KEY (tag_id, book_id)",
    )
    result = run_checks(mini_project, mini_db, rules=["C4"])
    assert objects(result, "C4") == [
        "ck_authors_name_not_empty",
        "ck_books_price_nonnegative",
        "ck_tags_name_short",
        "fk_books_author_id_authors",
        "ix_books_author_id",
        "ix_books_title_published",
        "pk_book_tags",
        "uq_tags_name",
    ]
    assert "does not exist in the database" in message(result, "ix_books_author_id")
    assert "WHERE (status = 'published'::book_status)" in message(result, "ix_books_title_published")
    assert "status = 'draft'" in message(result, "ix_books_title_published")
    assert "price >= (0)::numeric" in message(result, "ck_books_price_nonnegative")
    assert "does not exist in the database" in message(result, "ck_authors_name_not_empty")
    assert "is not declared by the model" in message(result, "ck_tags_name_short")
    fk = message(result, "fk_books_author_id_authors")
    assert "ON DELETE CASCADE" in fk and "ON DELETE RESTRICT" in fk
    assert "model PRIMARY KEY (book_id, tag_id), database PRIMARY KEY (tag_id, book_id)" in message(
        result, "pk_book_tags"
    )
    assert "unique constraint" in message(result, "uq_tags_name")


def test_c5_enums(mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]) -> None:
    run_sql(
        mini_db,
        "ALTER TYPE mood ADD VALUE 'angry'",
        "CREATE TYPE leftover AS ENUM ('x', 'y')",
        # The CHECK and the partial index compare status with enum literals: out of the way first.
        "ALTER TABLE books DROP CONSTRAINT ck_books_status_price",
        "DROP INDEX ix_books_title_published",
        "ALTER TABLE books ALTER COLUMN status DROP DEFAULT",
        "ALTER TYPE book_status RENAME TO book_status_old",
        "CREATE TYPE book_status AS ENUM ('published', 'draft')",
        "ALTER TABLE books ALTER COLUMN status TYPE book_status USING status::text::book_status",
        "ALTER TABLE books ALTER COLUMN status SET DEFAULT 'draft'",
        "DROP TYPE book_status_old",
    )
    result = run_checks(mini_project, mini_db, rules=["C5"])
    assert objects(result, "C5") == ["book_status", "leftover", "mood"]
    assert "labels not in the model: angry" in message(result, "mood")
    assert "same labels in another order" in message(result, "book_status")
    assert "used by no model column" in message(result, "leftover")
    assert "DROP TYPE leftover" in next(f.hint for f in result.findings if f.object == "leftover")


def test_c5_enum_of_an_existing_table_missing(
    mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]
) -> None:
    run_sql(
        mini_db,
        "ALTER TABLE authors ALTER COLUMN mood DROP DEFAULT",
        "ALTER TABLE authors ALTER COLUMN mood TYPE text",
        "DROP TYPE mood",
    )
    result = run_checks(mini_project, mini_db, rules=["C5", "C3"])
    assert objects(result, "C5") == ["mood"]
    assert "used by authors.mood does not exist" in message(result, "mood")
    assert "authors.mood" in objects(result, "C3")


def test_c3_comments_are_warnings(mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]) -> None:
    run_sql(mini_db, "COMMENT ON TABLE tags IS 'labels'", "COMMENT ON COLUMN tags.name IS 'the label'")
    result = run_checks(mini_project, mini_db)
    assert [(f.rule, f.severity, f.object) for f in result.findings] == [
        ("C3-columns", "warning", "tags"),
        ("C3-columns", "warning", "tags.name"),
    ]
    assert result.ok  # warnings do not fail the run
    assert "database 'the label'" in message(result, "tags.name")


@pytest.mark.parametrize("name", ["C7", "nonsense"])
def test_unknown_rule_is_a_usage_error(mini_project: Settings, name: str) -> None:
    # Refused before any connection: the URL points nowhere.
    with pytest.raises(ConfigError, match="unknown consistency rule"):
        run_checks(mini_project, "postgresql://nobody@127.0.0.1:1/nowhere", rules=[name])


def test_unreachable_database_is_one_error(mini_project: Settings) -> None:
    with pytest.raises(DatabaseUnreachable):
        run_checks(mini_project, "postgresql://nobody@127.0.0.1:1/nowhere")


def test_a_rule_plug_in_that_breaks_is_not_checked(
    mini_project: Settings, mini_db: URL, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plug-in rule (an installed entry point) that raises: its rule is 'not checked' with why, the others run."""
    site = tmp_path / "site"
    (site / "brokenrule").mkdir(parents=True)
    (site / "brokenrule" / "__init__.py").write_text(
        'RULES = ("X1-broken",)\n\n\ndef check(ctx):\n    raise RuntimeError("the plug-in is broken")\n'
    )
    dist = site / "brokenrule-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenrule\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[dbops.checks]\nX1 = brokenrule\n")
    monkeypatch.syspath_prepend(str(site))
    result = run_checks(mini_project, mini_db, rules=["C1", "X1"])
    assert result.not_checked == {"X1-broken": result.not_checked["X1-broken"]}
    assert "the rule failed: RuntimeError: the plug-in is broken" in result.not_checked["X1-broken"]
    assert not result.ok and "C1-model-table" in result.rules
