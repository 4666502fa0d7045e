"""Alembic through its command API: config, upgrade, downgrade, current, history, new."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from dbops.config import Settings
from dbops.errors import ConfigError, MigrationError
from dbops.urls import mask_text, plain_url


def alembic_config(settings: Settings, connection: Connection | None = None, url: URL | None = None) -> Config:
    """An Alembic Config for the project; a connection or URL is handed to env.py as attributes."""
    ini = settings.alembic_ini
    if not ini.is_file():
        raise ConfigError(
            f"alembic config {ini} does not exist", "set alembic_ini under [tool.dbops] or create the file"
        )
    cfg = Config(str(ini), stdout=io.StringIO())
    if connection is not None:
        cfg.attributes["connection"] = connection
    if url is not None:
        cfg.attributes["url"] = plain_url(url)
    return cfg


def script_directory(settings: Settings) -> ScriptDirectory:
    """The project's revision scripts; a broken script is one ConfigError line."""
    try:
        return ScriptDirectory.from_config(alembic_config(settings))
    except CommandError as exc:
        raise ConfigError(f"cannot read the migration scripts: {exc}", "check script_location in alembic.ini") from None
    except SyntaxError as exc:
        raise MigrationError(
            f"migration {exc.filename}:{exc.lineno} has a syntax error: {exc.msg}", "fix the file"
        ) from None


@contextlib.contextmanager
def _connected(url: URL) -> Iterator[Connection]:
    engine = create_engine(plain_url(url), poolclass=None)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _run(settings: Settings, url: URL, what: str, fn: object, *args: object) -> None:
    with _connected(url) as conn:
        cfg = alembic_config(settings, connection=conn)
        try:
            fn(cfg, *args)  # type: ignore[operator]
            conn.commit()
        except CommandError as exc:
            raise MigrationError(f"{what} failed: {mask_text(str(exc))}", "see `invoke migrate.history`") from None
        except SQLAlchemyError as exc:
            stmt = getattr(exc, "statement", None) or ""
            detail = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise MigrationError(
                f"{what} failed at revision {current_revision_of(conn) or 'base'} -> next: {mask_text(detail)}"
                + (f" [statement: {stmt.strip()[:200]}]" if stmt else ""),
                "fix the migration; the database stays at the last revision that succeeded",
            ) from None


def upgrade(settings: Settings, url: URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``; each migration runs in its own transaction."""
    _run(settings, url, f"upgrade to {revision}", command.upgrade, revision)


def downgrade(settings: Settings, url: URL, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` for an empty schema)."""
    _run(settings, url, f"downgrade to {revision}", command.downgrade, revision)


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
            script = command.revision(cfg, message=message, autogenerate=autogenerate)
        except CommandError as exc:
            raise MigrationError(
                f"cannot create the revision: {exc}", "run `invoke migrate` first so the database is at head"
            ) from None
    scripts = script if isinstance(script, list) else [script]
    return ", ".join(s.path for s in scripts if s is not None)
