"""templates.Copies: the copy a test's database comes from is made ahead, and nothing is left behind."""

from __future__ import annotations

import itertools
from typing import Any

from dbops.core import database
from dbops.core.dburl import URL
from dbops.core.urls import with_database
from dbops.lifecycle import templates


def scalar(url: URL, sql: str) -> Any:
    """The first column of the first row of ``sql`` (None for a statement without rows)."""
    with database.connect(url) as conn:
        cur = conn.execute(sql.encode())
        row = cur.fetchone() if cur.description else None
        return row[0] if row else None


def test_copies_are_fresh_distinct_made_ahead_and_all_dropped(pg_server: URL, head_template: str) -> None:
    serial = itertools.count()
    made: list[str] = []

    def new_name() -> str:
        made.append(f"t_copies_{next(serial)}_{id(made) % 10_000}")
        return made[-1]

    copies = templates.Copies(pg_server, head_template, new_name)
    try:
        first = copies.take()
        url = with_database(pg_server, first)
        assert scalar(url, "SELECT count(*) FROM alembic_version") == 1  # a copy of the migrated template
        scalar(url, "CREATE TABLE scribble (x int)")
        copies.drop(first)
        assert not database.exists(pg_server, first)

        second = copies.take()  # the one made while the first was in use
        assert second == made[1] and second != first
        assert scalar(with_database(pg_server, second), "SELECT to_regclass('scribble') IS NULL") is True
        copies.drop(second)

        with copies.copy() as url:  # the third, the one made while the second was in use
            assert url.database == made[2] and database.exists(pg_server, made[2])
        assert not database.exists(pg_server, made[2])
    finally:
        copies.close()
    assert len(made) == 4  # the fourth was made ahead, never taken, and dropped by close
    assert not any(database.exists(pg_server, name) for name in made)
