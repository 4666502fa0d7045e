"""The warm reset without SQLAlchemy or Alembic: taken only while nothing the template depends on changed."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from cli_support import REVISION, make_project
from psycopg import sql

from dbops.commands import db, fastreset
from dbops.core import database
from dbops.core.config import Settings, load_settings
from dbops.core.dburl import URL
from dbops.core.urls import libpq_url, with_database
from dbops.lifecycle import templates


@pytest.fixture()
def tiny(
    tmp_path: Path, dbops_settings: Settings, pg_server: URL, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """A tiny project on the suite's embedded server (same cache directory), with a database of its own."""
    if dbops_settings.resolved_backend != "embedded":
        pytest.skip("the warm path is the embedded backend's")
    root = make_project(tmp_path / "tiny")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "models", raising=False)  # another tiny project's, from an earlier test
    for key in ("DATABASE_URL", "DBOPS_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    settings = load_settings(root).replace(database=f"tiny{uuid.uuid4().hex[:8]}", cache_dir=dbops_settings.cache_dir)
    yield settings
    for name in database.list_databases(pg_server):
        if settings.database in name:
            database.drop(pg_server, name, disposable=(name,))


def _tables(server: URL, name: str) -> set[str]:
    with psycopg.connect(libpq_url(with_database(server, name))) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def _record(settings: Settings) -> Path:
    return fastreset._record_path(settings, "head", False)


def test_an_unchanged_project_resets_without_the_full_path(tiny: Settings, pg_server: URL) -> None:
    full = db.reset(tiny, seed=False)
    assert full.template and _record(tiny).is_file()
    with psycopg.connect(libpq_url(full.url)) as conn:
        conn.execute("INSERT INTO things (id) VALUES (1)")  # data the reset must throw away
    fast = fastreset.try_reset(tiny, "head", seed=False)
    assert fast is not None and not fast.seeded
    assert fast.masked_url.endswith(f"/{tiny.database}") and "***" in fast.masked_url
    assert _tables(pg_server, tiny.database) == {"alembic_version", "things"}
    with psycopg.connect(libpq_url(full.url)) as conn:
        assert conn.execute("SELECT count(*) FROM things").fetchone() == (0,)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("r1",)
    assert password_free(_record(tiny), pg_server)


def password_free(record: Path, server: URL) -> bool:
    """The record names the server but never holds its password."""
    return bool(server.password) and server.password not in record.read_text()


Change = Callable[[Settings, pytest.MonkeyPatch], None]


def _edit(path: str, text: str = "\n# edited\n") -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        file = settings.root / path
        file.write_text(file.read_text() + text)

    return change


CODE = "\nEDITED = True\n"  # a change in what the file runs (a comment alone cannot change a database)


def _write(path: str) -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        (settings.root / path).write_text("SELECT 1;\n")

    return change


def _new_revision(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = settings.root / "migrations" / "versions"
    (versions / "r2.py").write_text(REVISION.format(doc="r2", rev="r2", down=repr("r1"), table="others"))


def _env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBOPS_IDLE_STOP", "999")


def _record_field(field: str, value: object) -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        path = _record(settings)
        body = json.loads(path.read_text())
        section, _, key = field.partition(".")
        if key:
            body[section][key] = value
        else:
            body[section] = value
        path.write_text(json.dumps(body))

    return change


CHANGES = {
    "a revision file edited": (_edit("migrations/versions/r1.py", CODE), True),
    "a comment in a revision file": (_edit("migrations/versions/r1.py"), False),
    "a revision added": (_new_revision, True),
    "a file beside the revisions added (one they may read)": (_write("migrations/versions/r1.sql"), True),
    "env.py edited": (_edit("migrations/env.py", CODE), True),
    "a model module edited": (_edit("models.py"), False),
    "alembic.ini edited": (_edit("alembic.ini"), False),
    "pyproject.toml edited": (_edit("pyproject.toml"), False),
    "a DBOPS_ variable set": (_env, False),
    "the server restarted (another postmaster pid)": (_record_field("server.pid", 1), False),
    "a library upgraded": (_record_field("dists.alembic", "0.0.1"), False),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_every_input_sends_the_reset_down_the_full_path(
    tiny: Settings, pg_server: URL, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = db.reset(tiny, seed=False)
    mutate, new_content = CHANGES[change]
    mutate(tiny, monkeypatch)
    assert fastreset.try_reset(tiny, "head", seed=False) is None
    monkeypatch.delitem(sys.modules, "models", raising=False)
    after = db.reset(tiny, seed=False)
    # Content the template is made of rebuilds it under a new name; anything else reuses the same template.
    assert (after.template != before.template) is new_content
    assert not database.exists(pg_server, before.template or "") or not new_content
    if change == "a revision added":
        assert "others" in _tables(pg_server, tiny.database)
    assert fastreset.try_reset(tiny, "head", seed=False) is not None  # recorded afresh


def test_a_dropped_template_is_rebuilt_by_the_full_path(tiny: Settings, pg_server: URL) -> None:
    first = db.reset(tiny, seed=False)
    assert first.template
    database.drop(pg_server, first.template, disposable=(first.template,))
    assert fastreset.try_reset(tiny, "head", seed=False) is None
    again = db.reset(tiny, seed=False)
    assert again.template == first.template and database.exists(pg_server, first.template)


def test_other_backends_never_take_the_warm_path(tiny: Settings) -> None:
    db.reset(tiny, seed=False)
    assert fastreset.try_reset(tiny.replace(backend="url", url="postgresql://127.0.0.1/x"), "head", seed=False) is None


def _unmarked_with_rows(server: URL, name: str) -> None:
    with database.connect(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with database.connect(with_database(server, name)) as conn:
        conn.execute("CREATE TABLE keep (id int); INSERT INTO keep VALUES (1), (2)")


def test_an_unmarked_database_is_left_to_the_full_path(tiny: Settings, pg_server: URL) -> None:
    first = db.reset(tiny, seed=False)
    database.drop(pg_server, tiny.database)
    _unmarked_with_rows(pg_server, tiny.database)
    assert fastreset.try_reset(tiny, "head", seed=False) is None
    assert _tables(pg_server, tiny.database) == {"keep"}
    # The configured database on the checkout's own server (an earlier version made it, unmarked): reset, marked.
    db.reset(tiny, seed=False)
    assert _tables(pg_server, tiny.database) == {"alembic_version", "things"}
    assert database.created_by_dbops(pg_server, tiny.database) is True
    assert fastreset.try_reset(tiny, "head", seed=False) is not None
    _ready_spare(pg_server, str(first.template))  # made before the fixture drops what is left


def _ready_spare(server: URL, template: str) -> str:
    """The template's spare once the background builder has made and marked it."""
    spare = templates.spare_name(template)
    deadline = time.monotonic() + 60
    while database.created_by_dbops(server, spare) is not True:
        assert time.monotonic() < deadline, "no spare was made"
        time.sleep(0.1)
    return spare


def test_the_warm_path_marks_what_it_renames_or_clones(tiny: Settings, pg_server: URL) -> None:
    first = db.reset(tiny, seed=False)
    assert first.template
    spare = _ready_spare(pg_server, first.template)
    with database.admin(pg_server) as conn:  # a spare an earlier version made: unmarked
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS NULL").format(sql.Identifier(spare)))
    assert fastreset.try_reset(tiny, "head", seed=False) is not None
    assert database.created_by_dbops(pg_server, tiny.database) is True
    database.drop(pg_server, _ready_spare(pg_server, first.template))  # no spare: the warm path clones
    assert fastreset.try_reset(tiny, "head", seed=False) is not None
    assert database.created_by_dbops(pg_server, tiny.database) is True
    _ready_spare(pg_server, first.template)  # made before the fixture drops what is left
