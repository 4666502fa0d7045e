"""reset-db against a real server: the guard, template clones and the naive path."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import URL

from dbops import lifecycle, migrations
from dbops.core import database
from dbops.core.config import Settings
from dbops.core.errors import DatabaseUnreachable, UnsafeOperation
from dbops.core.urls import libpq_url, parse_url, with_database
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
    other = templates.fingerprint(dbops_settings, "changed")
    assert other != templates.fingerprint(dbops_settings, "head")


def test_reset_at_a_revision(pg_server: URL, dbops_settings: Settings) -> None:
    rev = dbops_settings.pipeline.sprint_start or migrations.history(dbops_settings)[0][0]
    tgt = lifecycle.Target(pg_server, "t_reset_rev")
    try:
        lifecycle.reset(dbops_settings, tgt, revision=rev, with_seed=False)
        assert migrations.current(dbops_settings, with_database(pg_server, "t_reset_rev")) == rev
    finally:
        database.drop(pg_server, "t_reset_rev")
