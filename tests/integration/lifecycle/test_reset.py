"""reset-db against a real server: the guard, the mark and consent, template clones and the naive path."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from dbops import lifecycle, migrations
from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import DatabaseUnreachable, UnsafeOperation
from dbops.core.urls import libpq_url, parse_url, plain_url, with_database
from dbops.lifecycle import templates


def _tables(url: URL) -> set[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


@pytest.mark.parametrize("name", ["postgres", "template0", "template1"])
def test_system_databases_are_never_dropped(pg_server: URL, name: str) -> None:
    with pytest.raises(UnsafeOperation):
        database.drop(pg_server, name)
    assert database.exists(pg_server, name)


def test_remote_host_is_refused_before_any_connection_unless_disposable(dbops_settings: Settings) -> None:
    remote = parse_url("postgresql://app:pw@db.example.invalid:5432/postgres")
    tgt = lifecycle.Target(remote, "billing")
    with pytest.raises(UnsafeOperation) as info:
        lifecycle.reset(dbops_settings, tgt)
    assert "db.example.invalid" in info.value.message and "disposable" in info.value.hint
    # Listed as disposable, the guard lets it through; the next thing is the (failing) connection.
    with pytest.raises(DatabaseUnreachable):
        lifecycle.reset(dbops_settings.replace(disposable=("billing",)), tgt)


@pytest.mark.parametrize("use_template", [True, False])
def test_reset_replaces_the_database_with_a_migrated_seeded_one(
    pg_server: URL, dbops_settings: Settings, use_template: bool
) -> None:
    name = f"t_reset_{'tpl' if use_template else 'naive'}"
    tgt = lifecycle.Target(pg_server, name)
    database.drop(pg_server, name)
    database.create(pg_server, name)
    with psycopg.connect(libpq_url(tgt.url), autocommit=True) as conn:
        conn.execute("CREATE TABLE leftover (id int)")
    try:
        result = lifecycle.reset(dbops_settings, tgt, use_template=use_template)
        tables = _tables(tgt.url)
        assert "leftover" not in tables
        assert {"users", "token_balances", "alembic_version"} <= tables
        assert migrations.current(dbops_settings, tgt.url) == migrations.history(dbops_settings)[-1][0]
        assert result.strategy == ("template" if use_template else "naive")
        assert result.seeded is bool(dbops_settings.seed)
    finally:
        database.drop(pg_server, name)


def test_template_is_reused_until_the_fingerprint_changes(pg_server: URL, dbops_settings: Settings) -> None:
    first = templates.ensure_template(dbops_settings, pg_server, "head")
    assert templates.ensure_template(dbops_settings, pg_server, "head") == first
    assert database.exists(pg_server, first)
    assert first.startswith(templates.template_family(dbops_settings, "head") + "_")


def test_reset_at_a_revision(pg_server: URL, dbops_settings: Settings) -> None:
    rev = dbops_settings.pipeline.sprint_start or migrations.history(dbops_settings)[0][0]
    tgt = lifecycle.Target(pg_server, "t_reset_rev")
    try:
        lifecycle.reset(dbops_settings, tgt, revision=rev, with_seed=False)
        assert migrations.current(dbops_settings, with_database(pg_server, "t_reset_rev")) == rev
    finally:
        database.drop(pg_server, "t_reset_rev")


def _unmarked(server: URL, name: str, rows: int = 2) -> URL:
    """A database made without dbops, with one table of ``rows`` rows."""
    with database.connect(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    with database.connect(url) as conn:
        conn.execute("CREATE TABLE keep (id int)")
        conn.execute("INSERT INTO keep SELECT generate_series(1, %s)", (rows,))
    return url


def test_every_database_dbops_makes_carries_its_mark(pg_server: URL, dbops_settings: Settings) -> None:
    tag = f"t_mark_{uuid.uuid4().hex[:6]}"
    own = dbops_settings.replace(database=tag)  # a template, spare and reader copy of this test's own
    hand = f"{tag}_hand"
    _unmarked(pg_server, hand)
    try:
        tpl = templates.ensure_template(own, pg_server, "head")
        database.create(pg_server, f"{tag}_new")
        templates.clone(pg_server, tpl, f"{tag}_clone")  # CREATE DATABASE ... TEMPLATE copies no comment
        assert templates.prepare_spare(pg_server, tpl)
        with database.admin(pg_server) as conn:  # a spare an earlier version made: unmarked
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS NULL").format(sql.Identifier(templates.spare_name(tpl))))
        assert templates.take_spare(pg_server, tpl, f"{tag}_spare") is not None
        reader = templates.reader_copy(own, pg_server, tpl)
        with lifecycle.empty_database(lifecycle.Target(pg_server, tag), "scratch") as scratch:
            made = [tpl, f"{tag}_new", f"{tag}_clone", f"{tag}_spare", str(reader.database), str(scratch.database)]
            for name in made:
                assert database.created_by_dbops(pg_server, name) is True, name
        assert database.created_by_dbops(pg_server, hand) is False
        assert database.created_by_dbops(pg_server, f"{tag}_absent") is None
    finally:
        for name in database.list_databases(pg_server):
            if tag in name:
                database.drop(pg_server, name, disposable=(name,))


def test_an_unmarked_database_is_refused_asked_or_dropped_as_told(pg_server: URL, dbops_settings: Settings) -> None:
    tgt = lifecycle.Target(pg_server, f"t_consent_{uuid.uuid4().hex[:6]}")
    on_url = dbops_settings.replace(backend="url", url=plain_url(tgt.url))
    _unmarked(pg_server, tgt.name)
    asked: list[str] = []
    try:
        with pytest.raises(UnsafeOperation) as refused:
            lifecycle.reset(on_url, tgt, with_seed=False)
        assert (
            f"/{tgt.name}: dbops did not create it, and it holds 2 rows in 1 table (counted)" in refused.value.message
        )
        assert "--yes" in refused.value.hint
        with pytest.raises(UnsafeOperation):
            lifecycle.reset(on_url, tgt, with_seed=False, ask=lambda q: asked.append(q) is not None)  # answers no
        assert len(asked) == 1 and "holds 2 rows in 1 table" in asked[0] and "***" in asked[0]
        assert str(pg_server.password) not in asked[0]
        assert _tables(tgt.url) == {"keep"}  # nothing changed before the answer
        lifecycle.reset(on_url, tgt, with_seed=False, ask=lambda q: True)
        assert "keep" not in _tables(tgt.url) and database.created_by_dbops(pg_server, tgt.name) is True
    finally:
        database.drop(pg_server, tgt.name)


@pytest.mark.parametrize("backend", ["embedded", "url"])
def test_an_unmarked_configured_database_is_dbops_s_only_on_its_own_server(
    pg_server: URL, dbops_settings: Settings, backend: str
) -> None:
    """A database an earlier dbops version made on the checkout's own server has no mark: it still resets."""
    tgt = lifecycle.Target(pg_server, f"t_legacy_{uuid.uuid4().hex[:6]}")
    settings = dbops_settings.replace(database=tgt.name, backend=backend, url=plain_url(tgt.url))
    # The naive path: a template named after this test's database would outlive it.
    _unmarked(pg_server, tgt.name)
    try:
        if backend == "url":  # a server dbops does not run: the name alone proves nothing
            with pytest.raises(UnsafeOperation):
                lifecycle.reset(settings, tgt, with_seed=False, use_template=False)
            assert _tables(tgt.url) == {"keep"}
        else:
            lifecycle.reset(settings, tgt, with_seed=False, use_template=False)
            assert "keep" not in _tables(tgt.url) and database.created_by_dbops(pg_server, tgt.name) is True
    finally:
        database.drop(pg_server, tgt.name)


def test_contents_counts_small_tables_and_estimates_large_ones(pg_server: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"t_contents_{uuid.uuid4().hex[:6]}"
    url = _unmarked(pg_server, name, rows=0)
    try:
        with database.connect(url) as conn:
            # Autovacuum would analyze them in the background whenever it wakes: only this test's ANALYZE may.
            conn.execute("ALTER TABLE keep SET (autovacuum_enabled = false)")
            conn.execute("INSERT INTO keep SELECT generate_series(1, 1500)")
            conn.execute("CREATE TABLE fresh (id int) WITH (autovacuum_enabled = false); INSERT INTO fresh VALUES (1)")
        assert database.contents(url) == "1,501 rows in 2 tables (counted)"
        monkeypatch.setattr(database, "COUNT_LIMIT_BYTES", 0)  # every table counts as large now
        # Never analyzed: no statistics to go by, so still counted.
        assert database.contents(url) == "1,501 rows in 2 tables (counted)"
        with database.connect(url) as conn:
            conn.execute("ANALYZE keep")
            conn.execute("INSERT INTO keep VALUES (0)")  # the statistics do not know this one
        assert database.contents(url) == "about 1,501 rows in 2 tables (estimated from statistics for large tables)"
    finally:
        database.drop(pg_server, name)
