"""A failure the agent reported, as the one DbopsError line a user reads: what failed, where, who opened what."""

from __future__ import annotations

from typing import Any

from dbops.core.dburl import URL, make_url
from dbops.core.errors import (
    ConfigError,
    DatabaseUnreachable,
    DbopsError,
    MigrationError,
    ProjectCodeError,
    command_hint,
)
from dbops.core.urls import mask_text, mask_url, same_database

# Said whenever env.py reaches a database other than the one dbops means.
FIX = (
    'make env.py use the connection dbops hands over: connection = config.attributes.get("connection"), '
    "and when it is set, context.configure(connection=connection, target_metadata=...) then "
    "context.run_migrations() on it (use it as is; call .connect() on it only if it is an Engine)"
)


class StatementFailed(MigrationError):
    """A statement of a migration failed on the server: exit 1, the database stays where it stopped."""

    def __init__(self, message: str, hint: str = "", sqlstate: str | None = None) -> None:
        super().__init__(message, hint)
        self.sqlstate = sqlstate


class WrongDatabase(ConfigError):
    """env.py opened another database than the one dbops means: exit 2, nothing changed."""


def _at(error: dict[str, Any]) -> str:
    return f" (at {error['where']})" if error.get("where") else ""


def agent_error(error: dict[str, Any], what: str, url: URL) -> DbopsError:
    """The DbopsError for one reported failure while ``what`` ran (e.g. "upgrade of 0003_tags")."""
    kind, message = error.get("kind", "project"), mask_text(error.get("message", ""))
    if kind == "wrong_database":
        return WrongDatabase(
            f"env.py opened a database of its own instead of {mask_url(url)}; stopped before any change", FIX
        )
    if kind == "not_run":
        return WrongDatabase("env.py did not run the migrations on a database connection; nothing was changed", FIX)
    if kind == "connection":
        return _connection(error, message, url)
    if kind == "syntax":
        return MigrationError(f"{error.get('file')}:{error.get('line')} has a syntax error: {message}", "fix the file")
    if kind == "command":
        return MigrationError(f"{what} failed: {message}", f"see `{command_hint('migrate.history')}`")
    if kind == "statement":
        hint = "fix the migration; the database stays at the last revision that succeeded"
        return StatementFailed(f"{what} failed: {message}{_at(error)}", hint, error.get("sqlstate"))
    if kind == "config":
        return ConfigError(message, "check the setting named, and that the project's interpreter has the package")
    if kind == "incomplete":
        return ConfigError(
            message,
            "list the modules that define the rest in models = [...] (or an import_all callable), "
            "or point metadata at a module that imports every model",
        )
    hint = f"fix the code named (`{command_hint('--debug ...')}` shows the traceback)"
    if kind == "import":
        return ConfigError(f"{what} failed: {error.get('type')}: {message}{_at(error)}", hint)
    return ProjectCodeError(f"{what} failed: {error.get('type')}: {message}{_at(error)}", hint, RuntimeError(message))


def _connection(error: dict[str, Any], message: str, url: URL) -> DbopsError:
    """A connection that failed: the URL that failed and who opened it; another database than ours is env.py's."""
    failed = error.get("url")
    where = error.get("where") or ""
    ours = mask_url(url)
    shown = mask_text(failed) if failed else ours
    line = f"cannot connect to {shown}: {message}" + (f" (opened by {where}" if where else "")
    if failed and where and not _same(failed, url):
        return ConfigError(f"{line}; dbops handed it {ours})", FIX)
    if where:
        line += ")"
    if "password authentication failed" in message:
        return DatabaseUnreachable(line, "check the user and password in DATABASE_URL")
    return DatabaseUnreachable(line, "is the server running? check host and port")


def _same(failed: str, url: Any) -> bool:
    """True if the failed URL's host, port and database are ours (it was printed with the password hidden)."""
    try:
        return same_database(make_url(failed), url)
    except ValueError:
        return False  # not a URL we can read: not provably ours
