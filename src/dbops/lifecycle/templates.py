"""Template databases: migrate once, then clone with CREATE DATABASE ... TEMPLATE."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg
from psycopg import sql

from dbops import migrations
from dbops.cache.inputs import code_key
from dbops.cache.store import Entry, loaded_key
from dbops.core import database, marker
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import DbopsError
from dbops.core.locks import file_lock
from dbops.core.procs import spawn_spare_builder
from dbops.core.urls import parse_url, plain_url, with_database

TEMPLATE_PREFIX = "dbops_tpl_"
SPARE_PREFIX = "dbops_spr_"
# A standing copy of a template that read-only checks connect to, so a check never waits for a clone.
READER_PREFIX = "dbops_chk_"
# A family keeps its newest templates: runs beside each other whose inputs differ (a test session and a command
# with another PYTHONPATH, or a session begun before an edit) each clone their own, and a rebuild by
# one never drops the template another is using.
KEPT_PER_FAMILY = 3
# PostgreSQL 15+ can clone with WAL_LOG (its default) or FILE_COPY. benchmarks/bench_reset.py
# measured them equal for this schema (0.380 s against 0.387 s, RESULTS.md), so the server's
# default stays: one fewer setting, and it also works on PostgreSQL 14 and older, which lack STRATEGY.
DEFAULT_STRATEGY: str | None = None


def server_version(server: URL) -> int:
    """The server's version number, e.g. 150004."""
    with database.admin(server) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    return int(row[0]) if row else 0


def template_family(settings: Settings, revision: str = "head", seeded: bool = False) -> str:
    """The prefix every template of this project, revision and seeding shares (the identity's hash follows).

    Two projects on one server never share a family (a rebuild drops the family's older templates).
    """
    tag = re.sub(r"[^a-z0-9]", "", revision.lower())[:14] + ("s" if seeded else "")
    return f"{_project_prefix(settings)}_{tag}"


def _project_prefix(settings: Settings) -> str:
    # The hash always survives PostgreSQL's 63-character limit: the database name is what gets cut.
    owner = hashlib.sha256(f"{settings.root.resolve()}|{settings.alembic_name}".encode()).hexdigest()[:6]
    return f"{TEMPLATE_PREFIX}{settings.database[:16]}_{owner}"


def ensure_template(
    settings: Settings,
    server: URL,
    revision: str = "head",
    build: Callable[[URL], object] | None = None,
    fresh: bool = False,
) -> str:
    """The name of an up-to-date template the history built to ``revision`` (then ``build``, e.g. the seed).

    ``fresh``: built again even when nothing it depends on changed (--no-cache).
    """

    def make(url: URL) -> None:
        migrations.upgrade(settings, url, revision)
        if build is not None:
            build(url)

    family = template_family(settings, revision, seeded=build is not None)
    key = code_key(settings, "history", revision, build is not None, models=False)
    return _ensure(settings, server, family, key, make, fresh)


def ensure_models_template(settings: Settings, server: URL, extensions: Sequence[tuple[str, str]] = ()) -> str:
    """The name of an up-to-date template the models built (``create_all`` in the project's interpreter), on a
    database holding ``extensions`` ((name, schema) pairs) first."""
    from dbops.project.runner import create_all

    def make(url: URL) -> None:
        with database.connect(url) as conn:
            for name, schema in extensions:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                conn.execute(
                    sql.SQL("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}").format(
                        sql.Identifier(name), sql.Identifier(schema)
                    )
                )
        create_all(settings, url)

    family = f"{_project_prefix(settings)}_models"
    key = code_key(settings, "models", settings.schemas[0], sorted(extensions))
    return _ensure(settings, server, family, key, make)


def _ensure(
    settings: Settings, server: URL, family: str, key: str, make: Callable[[URL], object], fresh: bool = False
) -> str:
    """The family's template, built with ``make`` only when what it is built from changed (:mod:`dbops.cache`).

    Its name carries everything it was built from, the project files the build loaded included.
    """
    lock = settings.cache_dir / "locks" / f"{family}.lock"
    with file_lock(lock, "waiting for another run to build the template..."):
        entry = Entry(settings, "templates", family, key)
        hit = None if fresh else entry.lookup()
        known = hit.result.get("name") if hit else None
        if isinstance(known, str) and database.exists(server, known):
            return known
        # One build name per family: a leftover from an interrupted build is simply dropped.
        building = f"dbops_bld_{family[len(TEMPLATE_PREFIX) :]}"[:63]
        database.drop(server, building, disposable=(building,))  # dbops's own scratch name
        database.create(server, building)
        try:
            with entry.collect() as loaded:
                make(with_database(server, building))
            found = entry.digests(loaded.files)
            # Unknown inputs (an agent that could not say what it loaded) give a name of its own, never reused.
            tail = loaded_key(found) if found is not None else f"unknown{os.getpid()}{time.time_ns()}"
            name = f"{family}_{hashlib.sha256(f'{key}|{tail}'.encode()).hexdigest()[:12]}"[:63]
            if database.exists(server, name):  # the same inputs built it before (its record was lost)
                database.drop(server, building, disposable=(building,))  # dbops's own scratch name
            else:
                database.rename(server, building, name, template=True)  # complete: only now a template
        except BaseException:
            database.drop(server, building, disposable=(building,))  # dbops's own scratch name
            raise
        entry.remember({"name": name}, loaded.files)
        _drop_older(server, family, name)
    return name


def _drop_older(server: URL, family: str, current: str) -> None:
    """Drop the family's templates beyond the newest KEPT_PER_FAMILY, with their spare and reader copies.

    A template a running session holds (:func:`in_use`) stays: a later rebuild drops it once it is free.
    """
    older = [t for t in database.list_databases(server, family + "_", newest_first=True) if t != current]
    kept = [current, *older[: KEPT_PER_FAMILY - 1]]
    with database.admin(server) as conn:
        for old in older[KEPT_PER_FAMILY - 1 :]:  # built from older migrations, models, seed or settings
            key = _lease_key(old)
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            if not (row and row[0]):
                kept.append(old)  # a running session clones from it
                continue
            try:
                database.drop(server, old, disposable=(old,))  # a stale one of dbops's own family
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    copies = {spare_name(t) for t in kept} | {reader_name(t) for t in kept}
    for prefix in (SPARE_PREFIX, READER_PREFIX):
        for old in database.list_databases(server, prefix + family[len(TEMPLATE_PREFIX) :] + "_"):
            if old not in copies:  # a copy of a template dropped now or before
                database.drop(server, old, disposable=(old,))  # a stale one of dbops's own family


def _lease_key(template: str) -> int:
    """The advisory lock that says a session is using ``template`` (a signed 64-bit number from its name)."""
    return int.from_bytes(hashlib.sha256(template.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def in_use(server: URL, template: str) -> Iterator[str]:
    """Hold ``template`` for the block (a test session's): a rebuild for other inputs elsewhere does not drop it."""
    conn = database.connect(server)
    try:
        conn.execute("SELECT pg_advisory_lock_shared(%s)", (_lease_key(template),))
        if not database.exists(server, template):
            raise DbopsError(f"template {template} was replaced before it could be held", "run again")
        yield template
    finally:
        conn.close()


def reader_name(template: str) -> str:
    """The standing copy of ``template`` that checks which only read connect to."""
    return f"{READER_PREFIX}{template[len(TEMPLATE_PREFIX) :]}"[:63]


def reader_copy(settings: Settings, server: URL, template: str) -> URL:
    """A standing copy of ``template`` for checks that only read: made once, reused until the template changes.

    The rules never write (a check's transaction is rolled back), so the copy stays equal to its
    template; connecting to the template itself would block the clones other runs make of it.
    """
    name = reader_name(template)
    with file_lock(settings.cache_dir / "locks" / f"{name}.lock", "waiting for another run to copy the template..."):
        if not database.exists(server, name):
            clone(server, template, name)
    return with_database(server, name)


def spare_name(template: str) -> str:
    """The ready-made copy of ``template`` that the next reset renames instead of cloning."""
    return f"{SPARE_PREFIX}{template[len(TEMPLATE_PREFIX) :]}"[:63]


def take_spare(server: URL, template: str, name: str) -> URL | None:
    """Rename the template's spare copy to ``name`` (milliseconds); None if there is no spare."""
    try:
        with database.admin(server) as conn:
            # Marked before the rename (an earlier version's spare has no mark): the mark moves with it.
            conn.execute(marker.mark(spare_name(template)))
        database.rename(server, spare_name(template), name)
    except psycopg.Error:
        return None  # none ready (or another run took it): the caller clones
    return with_database(server, name)


def prepare_spare(server: URL, template: str) -> bool:
    """Create the template's spare copy if missing; True if one was made."""
    spare = spare_name(template)
    if database.exists(server, spare) or not database.exists(server, template):
        return False
    try:
        clone(server, template, spare)
    except DbopsError:
        return False  # lost a race with another run's spare builder: theirs will do
    return True


def prepare_spare_in_background(settings: Settings, server: URL, template: str) -> None:
    """Build the next spare in a detached process, so the next reset is a rename, not a copy."""
    spawn_spare_builder(settings.root, plain_url(server), template)


def clone(server: URL, template: str, name: str, strategy: str | None = None) -> URL:
    """Create database ``name`` as a copy of ``template``; return its URL."""
    if strategy is None and DEFAULT_STRATEGY and server_version(server) >= 150000:
        strategy = DEFAULT_STRATEGY
    database.create(server, name, template=template, strategy=strategy)
    return with_database(server, name)


@contextlib.contextmanager
def cloned(server: URL, template: str, name: str) -> Iterator[URL]:
    """A copy of ``template`` named ``name`` for the length of the block, dropped afterwards."""
    url = clone(server, template, name)
    try:
        yield url
    finally:
        database.drop(server, name, disposable=(name,))


class Copies:
    """Copies of one template handed out one by one, the next made in a thread while the last is in use.

    A test's database is then usually ready when the test starts instead of costing a clone (0.2-0.4 s)
    in its setup. ``close`` drops the copy made ahead; names come from ``new_name``, like any other.
    """

    def __init__(self, server: URL, template: str, new_name: Callable[[], str]) -> None:
        self.server, self.template, self.new_name = server, template, new_name
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="dbops-copies")
        self._ahead: Future[str] | None = None
        self._lock = threading.Lock()  # two threads taking at once must not get the same copy

    def _make(self) -> str:
        name = self.new_name()
        clone(self.server, self.template, name)
        return name

    def take(self) -> str:
        """The name of a fresh copy of the template (the one made ahead if it succeeded), starting the next."""
        with self._lock:
            ahead, self._ahead = self._ahead, None
            name = None
            if ahead is not None:
                try:
                    name = ahead.result()
                except (DbopsError, psycopg.Error):
                    name = None  # made again below, where its error reaches the test
            name = name or self._make()
            self._ahead = self._worker.submit(self._make)
            return name

    def drop(self, name: str) -> None:
        """Drop a copy handed out by ``take``."""
        database.drop(self.server, name, disposable=(name,))

    @contextlib.contextmanager
    def copy(self) -> Iterator[URL]:
        """The URL of a fresh copy for the length of the block, dropped afterwards."""
        name = self.take()
        try:
            yield with_database(self.server, name)
        finally:
            self.drop(name)

    def __enter__(self) -> Copies:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop the copy made ahead and stop the thread."""
        with self._lock:
            ahead, self._ahead = self._ahead, None
            if ahead is not None:
                try:
                    self.drop(ahead.result())
                except (DbopsError, psycopg.Error):
                    pass  # a copy that failed to be made needs no drop (the failure reached whoever took one)
            self._worker.shutdown(wait=True)


if __name__ == "__main__":
    prepare_spare(parse_url(os.environ["DBOPS_SPARE_SERVER"]), os.environ["DBOPS_SPARE_TEMPLATE"])
