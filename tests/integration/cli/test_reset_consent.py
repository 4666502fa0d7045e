"""reset-db drops a database dbops did not create only when told to: --yes, or a yes on a terminal."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from cli_support import Run, invoke
from psycopg import sql

from dbops.core import database
from dbops.core.dburl import URL
from dbops.core.urls import plain_url, with_database

HELD = "4 rows in 2 tables (counted)"


@pytest.fixture()
def hand_made(pg_server: URL) -> Iterator[URL]:
    """A local database made without dbops (no mark), with two tables of two rows each."""
    name = f"hand_{uuid.uuid4().hex[:8]}"
    with database.connect(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(pg_server, name)
    with database.connect(url) as conn:
        conn.execute("CREATE TABLE users (id int); INSERT INTO users VALUES (1), (2)")
        conn.execute("CREATE TABLE runs (id int); INSERT INTO runs VALUES (1), (2)")
    yield url
    database.drop(pg_server, name)


def _env(url: URL) -> dict[str, str]:
    return {"DATABASE_URL": plain_url(url.set(drivername="postgresql"))}


def _tables(url: URL) -> dict[str, int]:
    """Each public table and its row count."""
    with database.connect(url) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        counts = {}
        for name in names:
            (counts[name],) = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))).fetchall()[
                0
            ]
        return counts


def _clean(run: Run, url: URL) -> None:
    assert "Traceback" not in run.text, run.text
    assert str(url.password) not in run.text  # the suite's server has a password: this can fail


@pytest.mark.parametrize("args", [[], ["--naive"]], ids=["template", "naive"])
def test_without_a_terminal_it_refuses_in_one_line_and_changes_nothing(hand_made: URL, args: list[str]) -> None:
    run = invoke("reset-db", *args, env=_env(hand_made))
    _clean(run, hand_made)
    assert run.code == 2, run.text
    (line,) = [ln for ln in run.err.splitlines() if ln.strip()]
    assert line.startswith("error: refusing to drop ") and f"/{hand_made.database}:" in line, line
    assert f"dbops did not create it, and it holds {HELD}" in line and "--yes" in line, line
    assert _tables(hand_made) == {"users": 2, "runs": 2}
    assert database.created_by_dbops(with_database(hand_made, "postgres"), str(hand_made.database)) is False


def test_with_yes_it_resets_and_the_next_reset_asks_nothing(hand_made: URL) -> None:
    run = invoke("reset-db", "--yes", "--no-seed", env=_env(hand_made))
    _clean(run, hand_made)
    assert run.code == 0, run.text
    tables = _tables(hand_made)
    assert "users" in tables and "runs" not in tables and tables["alembic_version"] == 1, tables
    # Recreated by dbops, so marked: from now on it is the checkout's own database.
    assert database.created_by_dbops(with_database(hand_made, "postgres"), str(hand_made.database)) is True
    again = invoke("reset-db", "--no-seed", env=_env(hand_made))
    assert again.code == 0, again.text


@pytest.mark.parametrize("args", [[], ["--naive"]], ids=["template", "naive"])
def test_the_checkouts_own_database_resets_without_asking(pg_server: URL, args: list[str]) -> None:
    own = with_database(pg_server, f"own_{uuid.uuid4().hex[:8]}")
    try:
        first = invoke("reset-db", *args, "--no-seed", env=_env(own))  # it does not exist yet: created
        assert first.code == 0, first.text
        with database.connect(own) as conn:
            conn.execute("CREATE TABLE scribble (id int); INSERT INTO scribble VALUES (1)")
        again = invoke("reset-db", *args, "--no-seed", env=_env(own))
        _clean(again, own)
        assert again.code == 0 and not again.err.strip(), again.text
        assert "scribble" not in _tables(own) and "users" in _tables(own)
    finally:
        database.drop(pg_server, str(own.database))


def _on_terminal(url: URL, answer: str) -> Run:
    """reset-db with stdin on a pseudo-terminal where ``answer`` has been typed."""
    main, child = os.openpty()
    try:
        os.write(main, f"{answer}\n".encode())  # waits in the terminal's line buffer until read
        return invoke("reset-db", "--no-seed", env=_env(url), stdin=child)
    finally:
        os.close(child)
        os.close(main)


def test_a_terminal_answering_no_keeps_the_database(hand_made: URL) -> None:
    run = _on_terminal(hand_made, "no")
    _clean(run, hand_made)
    assert run.code == 2, run.text
    # The question, then (after the answer, which the terminal shows) the one line saying nothing changed.
    assert f"/{hand_made.database} was not created by dbops and holds {HELD}. Drop it and recreate it? [y/N]" in run.err
    assert run.err.rstrip().endswith("was left as it was (fix: answer yes, or rerun with --yes, to drop it)"), run.err
    assert _tables(hand_made) == {"users": 2, "runs": 2}


def test_a_terminal_answering_yes_resets(hand_made: URL) -> None:
    run = _on_terminal(hand_made, "yes")
    _clean(run, hand_made)
    assert run.code == 0, run.text
    assert f"holds {HELD}. Drop it and recreate it? [y/N]" in run.err
    tables = _tables(hand_made)
    assert "runs" not in tables and tables["users"] == 0, tables
