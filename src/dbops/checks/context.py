"""What every rule receives: metadata, connection, scripts, settings, and data computed once for all rules."""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection

# Re-exported for the rules that import them from here.
from dbops.checks.hints import migrate_hint as migrate_hint
from dbops.checks.hints import new_revision_hint as new_revision_hint
from dbops.core.config import Settings
from dbops.core.errors import DbopsError, NotChecked
from dbops.migrations import EnvView, Migrator
from dbops.migrations.graph import History, Revision
from dbops.migrations.scripts import version_files
from dbops.migrations.snapshot import snapshot

# dbops always compares types and server defaults, whatever a project's env.py asks of autogenerate:
# a checker is stricter than a generator. Only env.py's object filters and version table are taken over.
COMPARE_OPTIONS: dict[str, Any] = {"compare_type": True, "compare_server_default": True}


@dataclass
class CheckContext:
    """Inputs of a check run; ``diffs``, ``catalog`` and the history views are computed once, on first use."""

    settings: Settings
    metadata: MetaData
    connection: Connection
    script: ScriptDirectory
    schema: str = "public"

    @cached_property
    def _env(self) -> tuple[EnvView, dict[str, bool]]:
        """env.py's view of the checked database, and which model-less tables its filters keep (one agent run)."""
        try:
            migrator = Migrator(self.settings, self.connection.engine.url)
        except DbopsError as exc:
            raise NotChecked(f"the project's Alembic could not be started: {exc.one_line()}") from exc
        try:
            view = migrator.view()
            candidates = sorted(set(self.catalog["tables"]) - set(self.model_tables) - set(self.settings.allow_tables))
            kept = dict.fromkeys(candidates, True)
            if view.filters and candidates:
                schema = None if self.schema == "public" else self.schema
                kept = migrator.project.request("included", "env.py's filters", names=candidates, schema=schema)
            return view, kept
        except DbopsError as exc:
            raise NotChecked(f"env.py could not be run on the checked database: {exc.one_line()}") from exc
        finally:
            migrator.close()

    @property
    def env(self) -> EnvView:
        """env.py's view of the checked database: its version table and filters (NotChecked if it will not run)."""
        return self._env[0]

    @cached_property
    def version_table(self) -> tuple[str, str]:
        """(schema, name) of the version table env.py uses."""
        return self.env.version_table

    @cached_property
    def diffs(self) -> list[tuple[Any, ...]]:
        """Alembic's ``compare_metadata`` diff tuples, with the per-column modify groups flattened."""
        schema, name = self.version_table
        opts = {**COMPARE_OPTIONS, "version_table": name}
        if schema != "public":
            opts["version_table_schema"] = schema
        ctx = MigrationContext.configure(self.connection, opts=opts)
        out: list[tuple[Any, ...]] = []
        for diff in compare_metadata(ctx, self.metadata):
            # Column changes come as a list of ("modify_*", ...) tuples, one list per column.
            out.extend(diff if isinstance(diff, list) else [diff])
        return out

    @cached_property
    def catalog(self) -> dict[str, Any]:
        """The pg_catalog snapshot of the schema (see :func:`dbops.migrations.snapshot.snapshot`)."""
        return snapshot(self.connection, self.schema)

    @cached_property
    def model_tables(self) -> dict[str, Table]:
        """The metadata's tables in the checked schema, by name."""
        return {t.name: t for t in self.metadata.tables.values() if t.schema in (None, self.schema)}

    @cached_property
    def db_tables(self) -> set[str]:
        """Table names in the database, without Alembic's version table."""
        schema, name = self.version_table
        return set(self.catalog["tables"]) - ({name} if schema == self.schema else set())

    @cached_property
    def missing_tables(self) -> list[str]:
        """Model tables the database lacks."""
        return sorted(set(self.model_tables) - self.db_tables)

    @cached_property
    def extra_tables(self) -> list[str]:
        """Database tables no model declares, minus ``allow_tables``."""
        extra = self.db_tables - set(self.model_tables) - set(self.settings.allow_tables)
        return sorted(name for name in extra if self._env[1].get(name, True))

    @cached_property
    def current_heads(self) -> tuple[str, ...]:
        """The revisions env.py's version table holds (empty at base)."""
        return self.env.heads

    @cached_property
    def history(self) -> History:
        """The revision files' history, read without importing them."""
        return History.read(version_files(self.script))

    @cached_property
    def pending(self) -> list[Revision]:
        """Revisions between the database's revision and head, oldest first; [] if unknown or at head."""
        if any(rev not in self.history.revisions for rev in self.current_heads):
            return []  # the database names a revision no file defines: C6 says so
        try:
            return [self.history.revisions[rev] for rev in self.history.pending(self.current_heads)]
        except graphlib.CycleError:
            return []  # a broken history is C6's to report, not every rule's

    @cached_property
    def pending_creates(self) -> dict[str, str]:
        """Table name -> the pending revision whose upgrade() calls ``op.create_table`` for it."""
        out: dict[str, str] = {}
        for rev in self.pending:
            for table in created_tables(rev.path):
                out.setdefault(table, rev.id)
        return out


def created_tables(path: Path) -> Iterator[str]:
    """Names passed as the first argument of ``op.create_table`` inside ``upgrade()`` of a revision file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "upgrade":
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "create_table"
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                    and isinstance(call.args[0].value, str)
                ):
                    yield call.args[0].value


# Which rule turns which of Alembic's diff kinds into findings; C3 takes every other kind.
TABLE_KINDS = frozenset({"add_table", "remove_table"})
CONSTRAINT_KINDS = frozenset(
    {"add_index", "remove_index", "add_constraint", "remove_constraint", "add_fk", "remove_fk"}
)
