"""Alembic through its command API: config, upgrade, downgrade, current, history, new."""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import RevisionStep
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dbops.core import database
from dbops.core.config import Settings, import_object
from dbops.core.errors import (
    ConfigError,
    DbopsError,
    HistoryBroken,
    MigrationError,
    NotChecked,
    ProjectCodeError,
    command_hint,
    project_code,
)
from dbops.core.urls import mask_text, mask_url, plain_url, same_database
from dbops.migrations import envguard


def alembic_config(settings: Settings, connection: Connection | None = None, url: URL | None = None) -> Config:
    """An Alembic Config for the project; a connection or URL is handed to env.py as attributes."""
    ini = settings.alembic_ini
    if not ini.is_file():
        raise ConfigError(
            f"alembic config {ini} does not exist", "set alembic_ini under [tool.dbops] or create the file"
        )
    cfg = Config(str(ini), ini_section=settings.alembic_name, stdout=io.StringIO())
    if settings.alembic_name != "alembic" and not cfg.file_config.has_section(settings.alembic_name):
        raise ConfigError(
            f"{ini} has no [{settings.alembic_name}] section", "pass the name of one of its sections (--name)"
        )
    # The conventional env.py honours this: programmatic runs keep the caller's logging setup.
    cfg.attributes["configure_logger"] = False
    if connection is not None:
        cfg.attributes["connection"] = connection
    if url is not None:
        # Every channel an env.py may read: the attribute, and sqlalchemy.url (ConfigParser needs %% for %).
        cfg.attributes["url"] = plain_url(url)
        cfg.set_section_option(cfg.config_ini_section, "sqlalchemy.url", plain_url(url).replace("%", "%%"))
    return cfg


def _where(exc: BaseException, root: Path) -> str:
    """file:line of the deepest traceback frame inside the project, for error messages."""
    where = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(root):
            where = f"{path.relative_to(root)}:{lineno}"
    return where


@contextlib.contextmanager
def alembic_errors(
    settings: Settings,
    what: str,
    conn: Connection | None = None,
    url: URL | None = None,
    heads_now: Callable[[], str | None] | None = None,
) -> Iterator[None]:
    """Turn whatever Alembic, the driver or the project's env.py/models raise into one DbopsError line.

    ``url`` is the database being migrated: a connection failure names the URL that failed and who
    opened it (never a password). ``heads_now`` tells where the database is after a failed statement.
    """
    try:
        with warnings.catch_warnings(), project_code(what, settings.root):
            # Alembic only warns about a duplicate revision id; check_revision_ids() makes it an error.
            warnings.filterwarnings("ignore", message="Revision .* is present more than once")
            yield
    except ProjectCodeError as wrapped:
        raise _describe(wrapped, settings, what, conn, url, heads_now) from wrapped.original


def _describe(
    wrapped: ProjectCodeError,
    settings: Settings,
    what: str,
    conn: Connection | None,
    url: URL | None,
    heads_now: Callable[[], str | None] | None,
) -> DbopsError:
    """The one line for what Alembic, the driver or the project's code raised while ``what`` ran."""
    exc = wrapped.original
    if isinstance(exc, CommandError):
        return MigrationError(f"{what} failed: {mask_text(str(exc))}", f"see `{command_hint('migrate.history')}`")
    if isinstance(exc, SyntaxError):
        return MigrationError(
            f"{Path(exc.filename or '?').name}:{exc.lineno} has a syntax error: {exc.msg}", "fix the file"
        )
    if isinstance(exc, OperationalError) and database.is_connection_error(exc.orig or exc):
        return _connection_error(exc, settings, url)
    if isinstance(exc, SQLAlchemyError):
        return _statement_error(exc, what, conn, heads_now)
    # env.py and the revisions may raise anything; each becomes one line naming the file and line.
    where = _where(exc, settings.root)
    cls = ConfigError if isinstance(exc, ImportError) or _during_import(exc) else MigrationError
    return cls(
        f"{what} failed: {type(exc).__name__}: {mask_text(str(exc))}" + (f" (at {where})" if where else ""),
        f"fix the code named above (`{command_hint('--debug ...')}` shows the traceback)",
    )


def _engine_url(exc: BaseException) -> URL | None:
    """The URL of the engine whose connection failed: the innermost Engine on the traceback's frames."""
    found = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        for value in frame.f_locals.values():
            if isinstance(value, Engine):
                found = value.url
    return found


def _connection_error(exc: OperationalError, settings: Settings, url: URL | None) -> DbopsError:
    """A failed connection: the URL that failed, who opened it (dbops, env.py, a revision), the password masked."""
    failed = _engine_url(exc)
    where = _where(exc, settings.root)
    error = database.describe_error(exc.orig or exc, failed or url or settings.url or "the database")
    if where and failed is not None and url is not None and not same_database(failed, url):
        return ConfigError(
            f"{error.message} (opened by {where}; dbops handed it {mask_url(url)})",
            envguard.FIX,
        )
    if where:
        error.message += f" (opened by {where})"
    return error


def _statement_error(
    exc: SQLAlchemyError, what: str, conn: Connection | None, heads_now: Callable[[], str | None] | None
) -> MigrationError:
    """A failing statement inside a migration: the revision reached and the server's message (--debug: the SQL)."""
    detail = database.server_message(exc)
    if conn is not None and not conn.closed:
        conn.rollback()
    try:
        at = f"after revision {(heads_now() if heads_now else None) or 'base'}"
    except DbopsError as again:
        at = f"(where it stopped could not be read: {again.message})"
    return MigrationError(
        f"{what} failed {at}: {mask_text(detail)}",
        "fix the migration; the database stays at the last revision that succeeded",
    )


def _during_import(exc: BaseException) -> bool:
    """True if the innermost frame is a module body: the error came from importing models or env.py."""
    frames = list(traceback.walk_tb(exc.__traceback__))
    return bool(frames) and frames[-1][0].f_code.co_name == "<module>"


def version_folders(script: ScriptDirectory) -> list[Path]:
    """The folders holding the revision files (Alembic keeps the list private)."""
    return [Path(folder) for folder in script._version_locations]


def revision_files(script: ScriptDirectory) -> list[Path]:
    """The .py files Alembic reads as revisions: in the version folders, below them only if it recurses."""
    pattern = "**/*.py" if getattr(script, "recursive_version_locations", False) else "*.py"
    return sorted(p for folder in version_folders(script) for p in folder.glob(pattern) if p.name != "__init__.py")


@dataclass(frozen=True)
class EnvView:
    """What env.py showed in a run that changed nothing: the heads its version table holds, its options."""

    heads: tuple[str, ...]
    opts: dict[str, Any]

    @property
    def filters(self) -> dict[str, Any]:
        """env.py's include_object/include_name: the project's own choice of what autogenerate compares."""
        return {key: self.opts[key] for key in ("include_object", "include_name") if callable(self.opts.get(key))}


def check_history(settings: Settings, script: ScriptDirectory) -> None:
    """Raise HistoryBroken with one finding per problem before Alembic reads the files and raises its own sentence."""
    from dbops.migrations.history_scan import scan_history

    found = scan_history(revision_files(script), settings.root)
    if found:
        raise HistoryBroken(found)


def script_directory(settings: Settings) -> ScriptDirectory:
    """The project's revision scripts, checked for a broken history first; errors are findings, one line each."""
    with alembic_errors(settings, "reading the migration scripts"):
        script = ScriptDirectory.from_config(alembic_config(settings))
        check_history(settings, script)
        script.revision_map.heads  # noqa: B018 - forces every version file to load, so errors surface here
        return script


@contextlib.contextmanager
def _connected(url: URL) -> Iterator[Connection]:
    engine = database.engine(url)
    try:
        try:
            conn = engine.connect()
        except OperationalError as exc:
            raise database.describe_error(exc.orig or exc, url) from None
        with conn:
            yield conn
    finally:
        engine.dispose()


class Migrator:
    """One connection and one loaded ScriptDirectory for many upgrades and downgrades, guarded.

    ``alembic.command.upgrade`` rereads every revision file on each call; a walk over M revisions
    through it costs O(M^2). This does what that command does (EnvironmentContext + run_env) with
    the script directory loaded once, so the walk is linear. Every run hands env.py the database by
    every channel and hands out steps only if the connection env.py configured reaches it (envguard).
    """

    def __init__(self, settings: Settings, conn: Connection, url: URL, script: ScriptDirectory | None = None) -> None:
        self.settings = settings
        self.conn = conn
        self.url = url
        # Duplicate ids and broken files fail before any change; a caller that only looks may pass its own.
        self.script = script or script_directory(settings)
        self.cfg = alembic_config(settings, connection=conn, url=url)
        self.guard = envguard.Guard(conn, url, Path(self.script.dir) / "env.py")
        self._engine: Engine | None = None
        self._checked = False
        self._prepared = False

    def close(self) -> None:
        """Release the marker and any engine handed to env.py."""
        self.guard.release()
        if self._engine is not None:
            self._engine.dispose()

    def _run_env(self, fn: Any, **opts: Any) -> None:
        # Our own connection must hold no locks while env.py may be working on a connection of its own.
        self.conn.commit()
        with (
            envguard.database_env(self.settings.url_env, self.url),
            EnvironmentContext(self.cfg, self.script, fn=fn, **opts),
        ):
            self.script.run_env()

    def _run_guarded(self, fn: Any, **opts: Any) -> None:
        """Run env.py with ``fn``; an env.py written for an Engine (pytest-alembic's) gets one."""
        try:
            self._run_env(fn, **opts)
        except AttributeError as exc:
            if "connect" not in str(exc) or self._engine is not None:
                raise
            # env.py called .connect() on the handed-over object: that convention expects an Engine.
            self._engine = database.engine(self.url)
            self.cfg.attributes["connection"] = self._engine
            self._run_env(fn, **opts)

    def view(self) -> EnvView:
        """Run env.py once, changing nothing: the revisions its version table holds and the options it set.

        Raises when env.py does not run, or runs on another database: nothing it says could be trusted.
        """
        seen: list[EnvView] = []
        reached: list[bool] = []

        def probe(heads: Any, context: Any) -> list[Any]:
            reached.append(self.guard.reaches(context.connection))
            seen.append(EnvView(tuple(heads), dict(context.opts)))
            return []

        with alembic_errors(self.settings, "running env.py", self.conn, self.url):
            self._run_guarded(probe, dont_mutate=True)
        if not seen:
            raise self.guard.not_run()
        if not all(reached):
            raise self.guard.wrong_database()
        self._checked = True
        return seen[-1]

    def heads(self) -> tuple[str, ...]:
        """The revisions recorded in the version table env.py uses (its schema, table and search_path)."""
        return self.view().heads

    def prepare(self) -> None:
        """Run the before_migrate hook once, if there is one and the database is at base."""
        if self._prepared or not self.settings.before_migrate:
            return
        self._prepared = True
        if not self.heads():
            hook = import_object(self.settings.before_migrate, "before_migrate")
            with alembic_errors(self.settings, f"before_migrate {self.settings.before_migrate}"):
                hook(plain_url(self.url))

    def _migrate(self, what: str, plan: Any, target: str | None = None) -> None:
        if not self._checked:
            # A run that changes nothing first: the version table is created only on a database it reaches.
            self.view()
        wrong: list[bool] = []

        def steps(heads: Any, context: Any) -> Any:
            # Judged before the first step: another database is never handed a statement.
            if not self.guard.reaches(context.connection):
                wrong.append(True)
                return []
            return list(plan(heads))

        with alembic_errors(self.settings, what, self.conn, self.url, self._heads_now):
            self._run_guarded(steps, **({"destination_rev": target} if target else {}))
            self.conn.commit()
        if wrong:
            raise self.guard.wrong_database()

    def _heads_now(self) -> str | None:
        """Where the database is after a failure, as env.py sees it (for the error line)."""
        return ",".join(self.view().heads) or None

    def _go(self, target: str, down: bool) -> None:
        script = self.script
        if not down:
            self.prepare()

        def plan(rev: Any) -> Any:
            return script._downgrade_revs(target, rev) if down else script._upgrade_revs(target, rev)

        self._migrate(f"{'downgrade' if down else 'upgrade'} to {target}", plan, target)

    def step(self, revision: str, up: bool) -> None:
        """Apply exactly one revision's upgrade or downgrade (branches and merges included)."""
        if up:
            self.prepare()
        rev = self.script.get_revision(revision)
        one = [RevisionStep(self.script.revision_map, rev, up)]
        what = f"{'upgrade' if up else 'downgrade'} of {revision}"
        self._migrate(what, lambda _heads: one, revision if up else None)

    def upgrade(self, revision: str = "head") -> None:
        """Upgrade to ``revision``."""
        self._go(revision, down=False)

    def downgrade(self, revision: str) -> None:
        """Downgrade to ``revision``."""
        self._go(revision, down=True)

    def current(self) -> str | None:
        """The revision the database is at now."""
        return ",".join(self.heads()) or None


@contextlib.contextmanager
def migrator(settings: Settings, url: URL) -> Iterator[Migrator]:
    """A Migrator on a connection to ``url``."""
    with _connected(url) as conn:
        m = Migrator(settings, conn, url)
        try:
            yield m
        finally:
            m.close()


def upgrade(settings: Settings, url: URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``; each migration runs in its own transaction."""
    with migrator(settings, url) as m:
        m.upgrade(revision)


def downgrade(settings: Settings, url: URL, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` for an empty schema)."""
    with migrator(settings, url) as m:
        m.downgrade(revision)


def current(settings: Settings, url: URL) -> str | None:
    """The database's current revision as env.py's version table holds it, or None when it is at base."""
    with migrator(settings, url) as m:
        return m.current()


def history(settings: Settings) -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from base to head; NotChecked when the folders hold no revision."""
    script = script_directory(settings)
    with alembic_errors(settings, "reading the history"):
        revs = list(script.walk_revisions("base", "heads"))
    if not revs:
        from dbops.migrations.scripts import no_revisions

        raise NotChecked(no_revisions(settings))
    out = []
    for rev in reversed(revs):
        down = rev.down_revision
        out.append((rev.revision, down if isinstance(down, str) or down is None else ",".join(down), rev.doc or ""))
    return out


def new_revision(settings: Settings, url: URL, message: str, autogenerate: bool = True) -> str:
    """Autogenerate a revision from the models against the database at ``url``; return its path."""
    if not message.strip():
        raise ConfigError("a new revision needs a message", 'pass -m "what it does"')
    with _connected(url) as conn, envguard.database_env(settings.url_env, url):
        cfg = alembic_config(settings, connection=conn, url=url)
        try:
            script = command.revision(cfg, message=message, autogenerate=autogenerate)
        except CommandError as exc:
            raise MigrationError(
                f"cannot create the revision: {exc}",
                f"run `{command_hint('migrate')}` first so the database is at head",
            ) from None
    scripts = script if isinstance(script, list) else [script]
    return ", ".join(s.path for s in scripts if s is not None)
