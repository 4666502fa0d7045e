"""What every rule receives: metadata, connection, scripts, settings, and data computed once for all rules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection

# Re-exported for the rules that import them from here.
from dbops.checks.hints import migrate_hint as migrate_hint
from dbops.checks.hints import new_revision_hint as new_revision_hint
from dbops.core.config import Settings
from dbops.core.errors import DbopsError, NotChecked
from dbops.migrations import EnvView, Migrator
from dbops.migrations.snapshot import VERSION_TABLE, snapshot

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
    def env(self) -> EnvView:
        """env.py's view of the checked database: its version table and filters (NotChecked if it will not run)."""
        # The scripts as opened, unloaded: a run that changes nothing needs no revision, and C6 names a broken one.
        migrator = Migrator(self.settings, self.connection, self.connection.engine.url, self.script)
        try:
            return migrator.view()
        except DbopsError as exc:
            raise NotChecked(f"env.py could not be run on the checked database: {exc.one_line()}") from exc
        finally:
            migrator.close()

    @cached_property
    def version_table(self) -> tuple[str, str]:
        """(schema, name) of the version table env.py uses."""
        opts = self.env.opts
        return (opts.get("version_table_schema") or "public", opts.get("version_table") or VERSION_TABLE)

    @cached_property
    def diffs(self) -> list[tuple[Any, ...]]:
        """Alembic's ``compare_metadata`` diff tuples, with the per-column modify groups flattened."""
        schema, name = self.version_table
        opts = {**COMPARE_OPTIONS, **self.env.filters, "version_table": name}
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
        return sorted(name for name in extra if self.included_table(name))

    def included_table(self, name: str) -> bool:
        """False if env.py's include_name/include_object leave the database table ``name`` out of autogenerate."""
        filters = self.env.filters
        schema = None if self.schema == "public" else self.schema
        try:
            if "include_name" in filters and not filters["include_name"](name, "table", {"schema_name": schema}):
                return False
            table = Table(name, MetaData(), schema=schema)
            return "include_object" not in filters or bool(filters["include_object"](table, name, "table", True, None))
        except (AttributeError, KeyError, TypeError) as exc:
            # A filter written for fuller objects than a bare reflected table: it cannot judge this one.
            raise NotChecked(f"env.py's object filter failed on table {name}: {type(exc).__name__}: {exc}") from exc

    @cached_property
    def current_heads(self) -> tuple[str, ...]:
        """The revisions env.py's version table holds (empty at base)."""
        return self.env.heads

    @cached_property
    def pending(self) -> list[Script]:
        """Revisions between the database's revision and head, oldest first; [] if unknown or at head."""
        try:
            if any(self.script.get_revision(rev) is None for rev in self.current_heads):
                return []
            lower = self.current_heads or ("base",)
            revs = []
            for low in lower:
                revs += list(self.script.iterate_revisions("heads", low))
        except (CommandError, RevisionError, KeyError):
            return []  # a broken history is C6's to report, not every rule's
        seen: dict[str, Script] = {r.revision: r for r in revs if r.revision not in self.current_heads}
        return list(reversed(seen.values()))

    @cached_property
    def pending_creates(self) -> dict[str, str]:
        """Table name -> the pending revision whose upgrade() calls ``op.create_table`` for it."""
        out: dict[str, str] = {}
        for rev in self.pending:
            for table in created_tables(Path(rev.path)):
                out.setdefault(table, rev.revision)
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
