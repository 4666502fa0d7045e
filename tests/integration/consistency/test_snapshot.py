"""The pg_catalog snapshot holds what the round trip compares, and the diff names each object."""

from __future__ import annotations

import copy
from collections.abc import Callable

from sqlalchemy import create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from dbops.core.urls import plain_url
from dbops.migrations.snapshot import diff_snapshots, snapshot


def take(url: URL) -> dict:  # type: ignore[type-arg]
    engine = create_engine(plain_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return snapshot(conn)
    finally:
        engine.dispose()


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
    }
    assert snap["tables"]["authors"]["columns"]["id"]["identity"] == "d"
    fk = snap["tables"]["books"]["constraints"]["fk_books_author_id_authors"]
    assert (fk["type"], fk["columns"], fk["ref_table"], fk["ref_columns"], fk["on_delete"]) == (
        "f",
        ["author_id"],
        "authors",
        ["id"],
        "c",
    )
    assert snap["tables"]["book_tags"]["constraints"]["pk_book_tags"]["columns"] == ["book_id", "tag_id"]
    assert snap["indexes"]["ix_books_title_published"]["predicate"] == "(status = 'published'::book_status)"
    assert snap["indexes"]["uq_tags_name"]["constraint"] is True
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
    assert snap["domains"] == {"positive": {"type": "integer", "not_null": False}}


def test_diff_names_leftover_missing_and_changed(mini_db: URL) -> None:
    before = take(mini_db)
    after = copy.deepcopy(before)
    after["enums"]["orphan"] = ["x"]
    del after["indexes"]["ix_books_author_id"]
    after["tables"]["books"]["columns"]["title"]["nullable"] = True
    del after["tables"]["tags"]
    assert [line.split(":")[0] for line in diff_snapshots(before, after)] == [
        "missing table tags",
        "changed column books.title",
        "missing index ix_books_author_id",
        "leftover enum type orphan",
    ]
    assert diff_snapshots(before, copy.deepcopy(before)) == []
