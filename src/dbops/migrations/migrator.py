"""Upgrades, downgrades and env.py's view of a database, run by the project's own Alembic in its own interpreter.

One agent process per database (:mod:`dbops.project`): settings read once at import, the project's
driver and SQLAlchemy version, an async env.py — all behave as under the project's own `alembic`.
Every run is guarded (:mod:`dbops.migrations.envguard`): judged from a run of env.py that changes
nothing, before the first statement.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError, DbopsError, MigrationError, NotChecked, ProjectCodeError
from dbops.core.urls import plain_url
from dbops.migrations import envguard
from dbops.migrations.graph import History
from dbops.migrations.history_scan import check_files
from dbops.migrations.scriptdir import learn_folders, project_revision_files
from dbops.migrations.scripts import no_revisions
from dbops.project.errors import StatementFailed
from dbops.project.runner import Project

# SQLSTATE of "canceling statement due to lock timeout".
LOCK_NOT_AVAILABLE = "55P03"
IDLE_IN_TRANSACTION = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND state = 'idle in transaction' ORDER BY pid"
)
LOCK_HINT = (
    "Alembic runs each revision on env.py's one connection: make the revision that opens a session of its own "
    "commit and close it (or use op.get_bind()); lock_timeout under [tool.dbops] sets how long a statement waits"
)


@dataclass(frozen=True)
class EnvView:
    """What env.py showed in a run that changed nothing: the heads its version table holds, what it configured."""

    heads: tuple[str, ...]
    opts: dict[str, Any]

    @property
    def version_table(self) -> tuple[str, str]:
        """(schema, name) of env.py's version table; its schema is the search_path's first when it names none."""
        schema = self.opts.get("version_table_schema") or _first_schema(self.opts.get("search_path")) or "public"
        return schema, self.opts.get("version_table") or "alembic_version"

    @property
    def revision_files(self) -> list[Path]:
        """The revision files in the folders Alembic reads after env.py ran (env.py may choose them)."""
        pattern = "**/*.py" if self.opts.get("recursive") else "*.py"
        folders = [Path(f) for f in self.opts.get("version_locations") or []]
        return sorted(p for folder in folders for p in folder.glob(pattern) if p.name != "__init__.py")

    @property
    def filters(self) -> list[str]:
        """Which of include_name / include_object env.py configures."""
        return list(self.opts.get("filters") or [])


def _first_schema(search_path: str | None) -> str | None:
    """The schema new tables land in under ``search_path`` ("$user" is not one dbops creates)."""
    for part in (search_path or "").split(","):
        name = part.strip().strip('"')
        if name and name != "$user":
            return name
    return None


class Migrator:
    """The project's Alembic on one database: many upgrades and downgrades, one process, every step guarded."""

    def __init__(self, settings: Settings, url: URL) -> None:
        self.settings = settings
        self.url = url
        self.guard = envguard.Guard(url)
        try:
            self.project = Project(settings, url, self.guard.key)
        except BaseException:
            self.guard.release()
            raise
        self._prepared = False

    def close(self) -> None:
        """End the agent and release the marker."""
        try:
            self.project.close()
        finally:
            self.guard.release()

    def view(self) -> EnvView:
        """Run env.py once, changing nothing: the heads its version table holds and what it configured."""
        data = self.project.request("view", "running env.py")
        learn_folders(self.settings, list(data.get("version_locations") or []), bool(data.get("recursive")))
        return EnvView(tuple(data["heads"]), data)

    def heads(self) -> tuple[str, ...]:
        """The revisions env.py's version table holds (its schema, table and search_path)."""
        return self.view().heads

    def current(self) -> str | None:
        """The revision the database is at now, as env.py sees it."""
        return ",".join(self.heads()) or None

    def prepare(self) -> None:
        """On an empty database, once: the before_migrate hook, then the baseline the history starts from."""
        settings = self.settings
        if self._prepared or not (settings.before_migrate or settings.baseline):
            return
        self._prepared = True
        if self.heads():
            return
        if settings.before_migrate:
            hook = settings.before_migrate
            self.project.request("call", f"before_migrate {hook}", target=hook, args=[plain_url(self.project.url)])
        if settings.baseline:
            self._baseline(settings.baseline, settings.baseline_revision or "heads")

    def _baseline(self, baseline: str, revision: str) -> None:
        """Build the schema the history starts from (a dump, or the models' create_all), then stamp ``revision``."""
        if baseline == "create_all":
            self.project.request(
                "create_all",
                "building the baseline (create_all)",
                metadata=self.settings.metadata or None,
                modules=list(self.settings.models),
                import_all=self.settings.import_all,
                schema=self.settings.tenant_schema,
            )
        else:
            dump = self.settings.root / baseline
            try:
                sql = dump.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(
                    f"baseline {baseline!r}: {exc.strerror}", "name a SQL file under the project"
                ) from None
            with database.connect(self.url) as conn:
                try:
                    conn.execute(sql.encode())  # the project's own schema dump, run as it is
                except psycopg.Error as exc:
                    raise MigrationError(
                        f"the baseline {baseline} failed: {database.server_message(exc)}", "fix the dump"
                    ) from None
        self.project.request("stamp", f"stamping the baseline at {revision}", revision=revision)

    def _migrate(self, what: str, **args: Any) -> None:
        try:
            self.project.request("migrate", what, **args)
        except (StatementFailed, ProjectCodeError) as exc:  # a revision failed: the history does not apply (exit 1)
            try:
                at = f"after revision {self.current() or 'base'}"
            except DbopsError as again:
                at = f"(where it stopped could not be read: {again.message})"
            message, hint = exc.message.replace(" failed: ", f" failed {at}: ", 1), exc.hint
            if isinstance(exc, StatementFailed) and exc.sqlstate == LOCK_NOT_AVAILABLE:
                message, hint = self._lock_holders(message), LOCK_HINT
            raise MigrationError(message, hint) from None

    def _lock_holders(self, message: str) -> str:
        """The lock timeout's message with who held the lock: connections to this database left in a transaction."""
        own = self.project.request("backend_pid", "reading the handed-over connection's process")
        with database.connect(self.url) as conn:
            held = [(pid,) for (pid,) in conn.execute(IDLE_IN_TRANSACTION).fetchall() if pid != own]
        waited = f"it waited lock_timeout ({self.settings.lock_timeout:g} s) for a lock"
        if not held:
            return f"{message} ({waited})"
        pids = ", ".join(str(pid) for (pid,) in held)
        return (
            f"{message} ({waited} held by a connection to this database left idle in a transaction (pid {pids}): "
            "one the project's own code opened, such as a session a revision opens and does not close)"
        )

    def upgrade(self, revision: str = "head") -> None:
        """Upgrade to ``revision``."""
        self.prepare()
        self._migrate(f"upgrade to {revision}", target=revision)

    def downgrade(self, revision: str) -> None:
        """Downgrade to ``revision``."""
        self._migrate(f"downgrade to {revision}", target=revision, down=True)

    def step(self, revision: str, up: bool) -> None:
        """Apply exactly one revision's upgrade or downgrade (branches and merges included)."""
        if up:
            self.prepare()
        self._migrate(f"{'upgrade' if up else 'downgrade'} of {revision}", revision=revision, up=up)


@contextlib.contextmanager
def migrator(settings: Settings, url: URL, check: bool = True) -> Iterator[Migrator]:
    """A Migrator on ``url``; the history is checked first (files read, then imported by the project), so a
    broken one changes nothing."""
    if check:
        check_files(settings, project_revision_files(settings))  # read as text, before anything runs
    m = Migrator(settings, url)
    try:
        if check:  # a run that may change the database: every revision file must import first
            files = m.view().revision_files  # the folders env.py chose: what Alembic will read
            errors = m.project.request("imports", "importing the revision files", paths=[str(f) for f in files])
            check_files(settings, files, {path: error for path, error in errors.items() if error})
        yield m
    finally:
        m.close()


def upgrade(settings: Settings, url: URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``; each migration runs as env.py says."""
    with migrator(settings, url) as m:
        m.upgrade(revision)


def downgrade(settings: Settings, url: URL, revision: str) -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` for an empty schema)."""
    with migrator(settings, url) as m:
        m.downgrade(revision)


def current(settings: Settings, url: URL) -> str | None:
    """The database's current revision as env.py's version table holds it, or None when it is at base."""
    with migrator(settings, url, check=False) as m:  # it only reads: the history's files need no check
        return m.current()


def history(settings: Settings) -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from base to head; NotChecked when the folders hold no revision."""
    files = project_revision_files(settings)
    check_files(settings, files)
    history = History.read(files)
    if not history:
        raise NotChecked(no_revisions(settings))
    revs = [history.revisions[rev] for rev in history.order()]
    return [(rev.id, ",".join(rev.downs) or None, rev.doc) for rev in revs]


def new_revision(settings: Settings, url: URL, message: str, autogenerate: bool = True) -> str:
    """Autogenerate a revision from the models against the database at ``url``; return its path."""
    if not message.strip():
        raise ConfigError("a new revision needs a message", 'pass -m "what it does"')
    with migrator(settings, url) as m:
        made = m.project.request("revision", "creating the revision", message=message, autogenerate=autogenerate)
    return ", ".join(made)
