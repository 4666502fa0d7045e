"""Alembic through its command API: config, upgrade, downgrade, current, history, new."""

from __future__ import annotations

import contextlib
import io
import re
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dbops import database, envguard
from dbops.config import Settings
from dbops.errors import ConfigError, DbopsError, MigrationError
from dbops.urls import mask_text, plain_url

_REVISION_RE = re.compile(r"^revision\s*(?::\s*str\s*)?=\s*['\"]([^'\"]+)['\"]", re.M)


def alembic_config(settings: Settings, connection: Connection | None = None, url: URL | None = None) -> Config:
    """An Alembic Config for the project; a connection or URL is handed to env.py as attributes."""
    ini = settings.alembic_ini
    if not ini.is_file():
        raise ConfigError(
            f"alembic config {ini} does not exist", "set alembic_ini under [tool.dbops] or create the file"
        )
    cfg = Config(str(ini), stdout=io.StringIO())
    # The conventional env.py honours this: programmatic runs keep the caller's logging setup.
    cfg.attributes["configure_logger"] = False
    if connection is not None:
        cfg.attributes["connection"] = envguard.engine_like(connection)
    if url is not None:
        cfg.attributes["url"] = plain_url(url)
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
def alembic_errors(settings: Settings, what: str, conn: Connection | None = None) -> Iterator[None]:
    """Turn whatever Alembic, the driver or the project's env.py/models raise into one DbopsError line."""
    try:
        with warnings.catch_warnings():
            # Alembic only warns about a duplicate revision id; check_revision_ids() makes it an error.
            warnings.filterwarnings("ignore", message="Revision .* is present more than once")
            yield
    except DbopsError:
        raise
    except CommandError as exc:
        raise MigrationError(f"{what} failed: {mask_text(str(exc))}", "see `invoke migrate.history`") from None
    except SyntaxError as exc:
        name = Path(exc.filename or "?").name
        raise MigrationError(f"{name}:{exc.lineno} has a syntax error: {exc.msg}", "fix the file") from None
    except OperationalError as exc:
        if database.is_connection_error(exc.orig or exc):
            raise database.describe_error(exc.orig or exc, settings.url or "the database") from None
        raise _statement_error(exc, what, conn) from None
    except SQLAlchemyError as exc:
        raise _statement_error(exc, what, conn) from None
    except Exception as exc:
        where = _where(exc, settings.root)
        cls = ConfigError if isinstance(exc, ImportError) or _during_import(exc) else MigrationError
        raise cls(
            f"{what} failed: {type(exc).__name__}: {mask_text(str(exc))}" + (f" (at {where})" if where else ""),
            "fix the code named above (rerun with --debug for the traceback)",
        ) from exc


def _statement_error(exc: SQLAlchemyError, what: str, conn: Connection | None) -> MigrationError:
    """A failing statement inside a migration: the revision reached, the driver's message, the statement."""
    stmt = (getattr(exc, "statement", None) or "").strip()
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    at = None
    if conn is not None and not conn.closed:
        with contextlib.suppress(SQLAlchemyError):
            conn.rollback()
            at = current_revision_of(conn)
    return MigrationError(
        f"{what} failed after revision {at or 'base'}: {mask_text(detail)}"
        + (f" [statement: {mask_text(stmt[:200])}]" if stmt else ""),
        "fix the migration; the database stays at the last revision that succeeded",
    )


def _during_import(exc: BaseException) -> bool:
    """True if the innermost frame is a module body: the error came from importing models or env.py."""
    frames = list(traceback.walk_tb(exc.__traceback__))
    return bool(frames) and frames[-1][0].f_code.co_name == "<module>"


def check_revision_ids(settings: Settings, script: ScriptDirectory) -> None:
    """Fail on two version files that declare the same revision id (Alembic keeps one and warns)."""
    seen: dict[str, Path] = {}
    for folder in script._version_locations:
        for path in sorted(Path(folder).glob("*.py")):
            match = _REVISION_RE.search(path.read_text(encoding="utf-8", errors="replace"))
            if not match:
                continue
            rev = match.group(1)
            if rev in seen:
                raise MigrationError(
                    f"duplicate revision id {rev!r} in {seen[rev].name} and {path.name}",
                    "give one of them a new id (and fix the down_revision that points at it)",
                )
            seen[rev] = path


def script_directory(settings: Settings) -> ScriptDirectory:
    """The project's revision scripts, checked for duplicate ids; errors are one line."""
    with alembic_errors(settings, "reading the migration scripts"):
        script = ScriptDirectory.from_config(alembic_config(settings))
        check_revision_ids(settings, script)
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
    """One connection and one loaded ScriptDirectory for many upgrades and downgrades.

    ``alembic.command.upgrade`` rereads every revision file on each call; a walk over M revisions
    through it costs O(M^2). This does what that command does (EnvironmentContext + run_env) with
    the script directory loaded once, so the walk is linear.
    """

    def __init__(self, settings: Settings, conn: Connection) -> None:
        self.settings = settings
        self.conn = conn
        self.script = script_directory(settings)  # duplicate ids and broken files fail before any change
        self.cfg = alembic_config(settings, connection=conn)
        self.url = conn.engine.url
        self.identity = envguard.identity(conn)
        conn.commit()  # hold no snapshot or lock while an env.py of the old style migrates on its own connection

    def _go(self, target: str, down: bool) -> None:
        what = f"{'downgrade' if down else 'upgrade'} to {target}"
        script = self.script

        def steps(rev: Any, context: Any) -> Any:
            # Alembic asks for the revisions to run before it runs any: the last moment nothing has changed.
            envguard.check_same_database(context.connection, self.conn, self.identity, self.url)
            return script._downgrade_revs(target, rev) if down else script._upgrade_revs(target, rev)

        with alembic_errors(self.settings, what, self.conn):
            with (
                envguard.every_channel(self.cfg, self.url, self.settings.url_env),
                EnvironmentContext(self.cfg, script, fn=steps, destination_rev=target),
            ):
                script.run_env()
            self.conn.commit()

    def upgrade(self, revision: str = "head") -> None:
        """Upgrade to ``revision``."""
        self._go(revision, down=False)

    def downgrade(self, revision: str) -> None:
        """Downgrade to ``revision``."""
        self._go(revision, down=True)

    def current(self) -> str | None:
        """The revision the database is at now."""
        return current_revision_of(self.conn)


@contextlib.contextmanager
def migrator(settings: Settings, url: URL) -> Iterator[Migrator]:
    """A Migrator on a connection to ``url``."""
    with _connected(url) as conn:
        yield Migrator(settings, conn)


def upgrade(settings: Settings, url: URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``; each migration runs in its own transaction."""
    with migrator(settings, url) as m:
        m.upgrade(revision)


def downgrade(settings: Settings, url: URL, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` for an empty schema)."""
    with migrator(settings, url) as m:
        m.downgrade(revision)


def current_revision_of(conn: Connection) -> str | None:
    """The revision recorded in ``alembic_version``, or None at base."""
    ctx = MigrationContext.configure(conn)
    heads = ctx.get_current_heads()
    return ",".join(heads) if heads else None


def current(settings: Settings, url: URL) -> str | None:
    """The database's current revision, or None when it is at base."""
    with _connected(url) as conn:
        return current_revision_of(conn)


def history(settings: Settings) -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from base to head."""
    script = script_directory(settings)
    with alembic_errors(settings, "reading the history"):
        revs = list(script.walk_revisions("base", "heads"))
    out = []
    for rev in reversed(revs):
        down = rev.down_revision
        out.append((rev.revision, down if isinstance(down, str) or down is None else ",".join(down), rev.doc or ""))
    return out


def new_revision(settings: Settings, url: URL, message: str, autogenerate: bool = True) -> str:
    """Autogenerate a revision from the models against the database at ``url``; return its path."""
    if not message.strip():
        raise ConfigError("a new revision needs a message", 'pass -m "what it does"')
    with _connected(url) as conn:
        cfg = alembic_config(settings, connection=conn)
        try:
            with envguard.every_channel(cfg, url, settings.url_env):
                script = command.revision(cfg, message=message, autogenerate=autogenerate)
        except CommandError as exc:
            raise MigrationError(
                f"cannot create the revision: {exc}", "run `invoke migrate` first so the database is at head"
            ) from None
    scripts = script if isinstance(script, list) else [script]
    return ", ".join(s.path for s in scripts if s is not None)
