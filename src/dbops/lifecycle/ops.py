"""The database lifecycle operations: reach the server, reset (template clone or naive), seed, scratch databases."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dbops import migrations
from dbops.backends.base import get_backend
from dbops.core import database
from dbops.core.catalog import read_extensions
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import (
    DatabaseUnreachable,
    MigrationError,
    ProjectCodeError,
    SeedFailed,
    UnsafeOperation,
    command_hint,
)
from dbops.core.urls import mask_url, parse_url, with_database
from dbops.lifecycle import templates
from dbops.project.runner import call_project


@dataclass(frozen=True)
class Target:
    """The server (maintenance database URL) and the name of the project's database on it."""

    server: URL
    name: str

    @property
    def url(self) -> URL:
        """URL of the project's database."""
        return with_database(self.server, self.name)


def target(settings: Settings, backend: str | None = None, *, will_drop: bool = False) -> Target:
    """Start (or reach) the server and name the database: the URL's own database, else settings.database.

    With ``will_drop`` the reset guard runs first, so a refused host is never even contacted.
    """
    name = settings.database
    if (backend or settings.resolved_backend) == "url" and settings.url:
        planned = parse_url(settings.url)
        if planned.database and planned.database != "postgres":
            name = planned.database
        if will_drop:
            database.guard_drop(planned, name, settings.disposable)
    server = get_backend(settings, backend).start()
    return Target(with_database(server, "postgres"), name)


def seed(settings: Settings, url: URL) -> bool:
    """Run the project's seed callable on ``url``; False when none is configured; SeedFailed names what it needed."""
    if not settings.seed:
        return False
    what = f"the seed ({settings.seed})"
    try:
        call_project(settings, url, settings.seed, what)
    except (MigrationError, ProjectCodeError) as exc:  # a statement that failed, or the seed's own error
        raise seed_failure(settings.seed, exc.message) from exc
    return True


_MISSING = re.compile(r'(relation|column) "([^"]+)"(?: of relation "([^"]+)")? does not exist')


def seed_failure(where: str, detail: str) -> SeedFailed:
    """One line for a seed that failed: the table or column it needed, never the SQL or its parameters."""
    missing = _MISSING.search(detail)
    if missing:
        kind, name, table = missing.groups()
        what = f"table {name}" if kind == "relation" else f"column {table + '.' if table else ''}{name}"
        return SeedFailed(
            f"the seed ({where}) needs {what}, which the migrations do not create: "
            "the models are ahead of the migrations",
            f"run `{command_hint('consistency')}` to see what the history lacks, "
            f"then add a migration (`{command_hint('migrate.new')}`)",
        )
    message = detail if detail.startswith("the seed") else f"the seed ({where}) failed: {detail}"
    return SeedFailed(message, f"fix the seed (`{command_hint('--debug ...')}` shows the traceback)")


@dataclass(frozen=True)
class ResetResult:
    """What a reset did and how long it took."""

    url: URL
    strategy: str
    seconds: float
    seeded: bool
    template: str | None = None  # the template it came from (None: the naive path)


def confirm_drop(
    settings: Settings, tgt: Target, *, yes: bool = False, ask: Callable[[str], bool] | None = None
) -> None:
    """Let a reset drop ``tgt`` only if it does not exist, dbops created it, or the user agreed.

    Agreement is ``yes`` (--yes) or a yes to ``ask`` (a question on a terminal); without either the
    reset is refused. Nothing is changed before the answer.
    """
    if yes or (tgt.name == settings.database and settings.resolved_backend != "url"):
        # The checkout's own database on the server dbops runs for it: dbops's, even unmarked (an earlier version's).
        return
    if database.created_by_dbops(tgt.server, tgt.name) is not False:
        return
    where, held = mask_url(tgt.url), database.contents(tgt.url)
    if ask is None:
        raise UnsafeOperation(
            f"refusing to drop {where}: dbops did not create it, and it holds {held}",
            "rerun with --yes if it is meant to be thrown away, or point DATABASE_URL at another database",
        )
    if not ask(f"{where} was not created by dbops and holds {held}. Drop it and recreate it?"):
        raise UnsafeOperation(f"{where} was left as it was", "answer yes, or rerun with --yes, to drop it")


def reset(
    settings: Settings,
    tgt: Target,
    *,
    revision: str = "head",
    with_seed: bool = True,
    use_template: bool = True,
    yes: bool = False,
    ask: Callable[[str], bool] | None = None,
    fresh: bool = False,
) -> ResetResult:
    """Drop and recreate the project's database at ``revision``, then seed it.

    With ``use_template`` the migrated schema comes from a cached template (rebuilt only when
    the migrations or models change, or with ``fresh``); otherwise it is the naive drop, create, upgrade. A database
    dbops did not create is dropped only with ``yes`` or a yes to ``ask`` (:func:`confirm_drop`).
    """
    started = time.perf_counter()
    database.guard_drop(tgt.server, tgt.name, settings.disposable)
    confirm_drop(settings, tgt, yes=yes, ask=ask)
    if use_template:
        build = (lambda u: seed(settings, u)) if with_seed and settings.seed else None
        try:
            tpl = templates.ensure_template(settings, tgt.server, revision, build, fresh)
        except SeedFailed:
            # The migrated database stays, with what of the seed could load, so the user can look at what it lacks.
            reset(settings, tgt, revision=revision, with_seed=False, yes=True)  # agreed to above
            with contextlib.suppress(SeedFailed):
                seed(settings, tgt.url)
            raise
        database.drop(tgt.server, tgt.name, settings.disposable)
        url = templates.take_spare(tgt.server, tpl, tgt.name) or templates.clone(tgt.server, tpl, tgt.name)
        templates.prepare_spare_in_background(settings, tgt.server, tpl)
        strategy, seeded = "template", build is not None
        return ResetResult(url, strategy, time.perf_counter() - started, seeded, tpl)
    else:
        database.drop(tgt.server, tgt.name, settings.disposable)
        url = database.create(tgt.server, tgt.name)
        migrations.upgrade(settings, url, revision)
        strategy, seeded = "naive", with_seed and seed(settings, url)
    return ResetResult(url, strategy, time.perf_counter() - started, seeded)


def ensure_database(tgt: Target) -> URL:
    """Create the project's database if it does not exist yet; return its URL."""
    if not database.exists(tgt.server, tgt.name):
        database.create(tgt.server, tgt.name)
    return tgt.url


@contextlib.contextmanager
def database_at(settings: Settings, tgt: Target, revision: str | None = None) -> Iterator[URL]:
    """The project's database, or with ``revision`` one the history built that far (for reading only)."""
    if revision is None:
        if not database.exists(tgt.server, tgt.name):
            raise DatabaseUnreachable(
                f"database {tgt.name!r} does not exist", f"run `{command_hint('reset-db')}` first"
            )
        yield tgt.url
        return
    tpl = templates.ensure_template(settings, tgt.server, revision)
    yield templates.reader_copy(settings, tgt.server, tpl)


def models_database(settings: Settings, server: URL, like: URL | None = None) -> URL:
    """A database the models built (create_all in the project's interpreter), for reading only.

    ``like``: a database whose extensions the models' is given first (the history's: a model may index with an
    operator class or use a type an extension brings, and extensions are the history's to create, not the models').
    """
    extensions: list[tuple[str, str]] = []
    if like is not None:
        with database.connect(like) as conn:
            extensions = read_extensions(conn)
    tpl = templates.ensure_models_template(settings, server, extensions)
    return templates.reader_copy(settings, server, tpl)


@contextlib.contextmanager
def empty_database(tgt: Target, purpose: str) -> Iterator[URL]:
    """A throwaway empty database on the server, dropped afterwards."""
    name = f"{tgt.name[:40]}_{purpose[:12]}_{os.getpid()}"
    database.drop(tgt.server, name, disposable=(name,))  # this run's own scratch database
    url = database.create(tgt.server, name)
    try:
        yield url
    finally:
        database.drop(tgt.server, name, disposable=(name,))
