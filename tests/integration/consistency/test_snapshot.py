"""The pg_catalog snapshot holds what the round trip compares, and the diff names each object."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from dbops.core import database
from dbops.core.catalog import read_catalog
from dbops.core.dburl import URL
from dbops.core.urls import plain_url
from dbops.migrations.snapshot import diff_snapshots, snapshot


def take(url: URL) -> dict[str, Any]:
    with database.connect(url) as conn:
        return read_catalog(conn)


def test_snapshot_of_the_fixture_head(mini_db: URL) -> None:
    snap = take(mini_db)
    assert sorted(snap["tables"]) == ["authors", "book_tags", "books", "tags"]  # alembic_version left out
    assert list(snap["tables"]["authors"]["columns"]) == ["id", "name", "email", "bio", "mood", "created_at"]
    email = snap["tables"]["authors"]["columns"]["email"]
    assert email == {
        "type": "character varying(255)",
        "nullable": False,
        "default": None,
        "identity": None,
        "generated": None,
        "collation": None,
        "comment": None,
        "enum": None,
        "sequence": None,
    }
    author_id = snap["tables"]["authors"]["columns"]["id"]
    assert (author_id["identity"], author_id["sequence"]) == ("by default", "authors_id_seq")
    assert snap["tables"]["authors"]["columns"]["mood"]["enum"] == "mood"
    fk = snap["tables"]["books"]["constraints"]["fk_books_author_id_authors"]
    assert fk == {
        "type": "foreign key",
        "definition": "FOREIGN KEY (author_id) REFERENCES authors(id) ON DELETE CASCADE",
        "columns": ["author_id"],
        "deferrable": False,
        "initially_deferred": False,
        "validated": True,
        "ref_schema": "public",
        "ref_table": "authors",
        "ref_columns": ["id"],
        "on_delete": "CASCADE",
        "on_update": "NO ACTION",
        "match": "SIMPLE",
    }
    assert snap["tables"]["book_tags"]["constraints"]["pk_book_tags"]["columns"] == ["book_id", "tag_id"]
    published = snap["indexes"]["ix_books_title_published"]
    assert published["predicate"] == "(status = 'published'::book_status)"
    assert published["definition"] == (
        "CREATE INDEX ON books USING btree (title) WHERE (status = 'published'::book_status)"
    )
    assert snap["indexes"]["uq_tags_name"]["constraint"] == "uq_tags_name"
    assert snap["tables"]["tags"]["constraints"]["uq_tags_name"]["nulls_not_distinct"] is False
    assert snap["enums"] == {"book_status": ["draft", "published"], "mood": ["happy", "sad", "meh"]}
    assert snap["sequences"]["authors_id_seq"]["owned_by"] == "authors.id"


def test_snapshot_sees_views_functions_triggers_domains(mini_db: URL, run_sql: Callable[..., None]) -> None:
    run_sql(
        mini_db,
        "CREATE VIEW published AS SELECT title FROM books WHERE status = 'published'",
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE TRIGGER books_touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION touch()",
        "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
    )
    snap = take(mini_db)
    assert list(snap["views"]) == ["published"]
    assert list(snap["functions"]) == ["touch()"]
    assert list(snap["triggers"]) == ["books.books_touch"]
    assert snap["domains"] == {
        "positive": {
            "type": "integer",
            "not_null": False,
            "default": None,
            "checks": {"positive_check": "CHECK ((VALUE > 0))"},
        }
    }


def test_extension_members_are_left_out_and_the_extension_named(
    mini_db: URL, run_sql: Callable[..., None], needs_extensions: Callable[..., None]
) -> None:
    needs_extensions("pgcrypto")
    before = take(mini_db)
    run_sql(mini_db, "CREATE EXTENSION pgcrypto")
    after = take(mini_db)
    assert "pgcrypto" in after["extensions"] and "pgcrypto" not in before["extensions"]
    assert after["functions"] == before["functions"] == {}
    assert diff_snapshots(before, after) == []


def test_a_sqlalchemy_connection_gives_the_same_snapshot(mini_db: URL) -> None:
    engine = create_engine(plain_url(mini_db), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            through_sqlalchemy = snapshot(conn)
    finally:
        engine.dispose()
    assert through_sqlalchemy == take(mini_db)


def test_diff_names_leftover_missing_and_changed(mini_db: URL) -> None:
    before = take(mini_db)
    after = copy.deepcopy(before)
    after["enums"]["orphan"] = ["x"]
    del after["indexes"]["ix_books_author_id"]
    after["tables"]["books"]["columns"]["title"]["nullable"] = True
    after["tables"]["authors"]["comment"] = "writers"
    del after["tables"]["tags"]
    assert [line.split(":")[0] for line in diff_snapshots(before, after)] == [
        "missing table tags",
        "changed table authors",
        "changed column books.title",
        "missing index ix_books_author_id",
        "leftover enum type orphan",
    ]
    assert diff_snapshots(before, copy.deepcopy(before)) == []
