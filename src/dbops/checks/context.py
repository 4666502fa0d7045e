"""What every rule receives: two catalogs PostgreSQL printed, env.py's view, the history, computed once for all.

``catalog`` is the checked database (one the migration history built, or with ``--live`` the project's
own); ``models_catalog`` is a scratch database the models built (``create_all`` in the project's own
interpreter). No SQLAlchemy here: both sides are PostgreSQL's text, compared by dbops
(:mod:`dbops.checks.compare`), so the project may use any SQLAlchemy its pins allow.
"""

from __future__ import annotations

import ast
import graphlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from dbops.checks.compare import compare_catalogs
from dbops.checks.hints import migrate_hint, new_revision_hint
from dbops.core import database
from dbops.core.catalog import read_catalog
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import DbopsError, NotChecked
from dbops.core.findings import Finding
from dbops.core.private import write_private
from dbops.migrations import EnvView, Migrator
from dbops.migrations.graph import History, Revision
from dbops.migrations.scriptdir import Scripts
from dbops.migrations.scripts import version_files

__all__ = ["CheckContext", "created_tables", "migrate_hint", "new_revision_hint"]


def _read(url: URL, schema: str) -> dict[str, Any]:
    with database.connect(url) as conn:
        return read_catalog(conn, schema, exclude=())


@dataclass
class CheckContext:
    """Inputs of a check run; the catalogs, env.py's view and the history are computed once, on first use."""

    settings: Settings
    url: URL
    models_url: URL
    script: Scripts
    schema: str = "public"
    # Where env.py's view of these two databases is kept, when both are templates (their names are their
    # identity: the same names, the same env.py, the same view); None for a live database.
    view_record: Path | None = None

    @cached_property
    def catalog(self) -> dict[str, Any]:
        """The checked database's schema as PostgreSQL prints it (the version table included)."""
        return _read(self.url, self.schema)

    @cached_property
    def models_catalog(self) -> dict[str, Any]:
        """The models' schema, as create_all built it and PostgreSQL prints it."""
        return _read(self.models_url, self.schema)

    @cached_property
    def _env(self) -> tuple[EnvView, dict[str, bool]]:
        """env.py's view of the checked database, and which model-less tables its filters keep (one agent run)."""
        recalled = self._recalled()
        if recalled is not None:
            return recalled
        view, kept = self._ask_env()
        if self.view_record is not None:
            try:
                write_private(self.view_record, json.dumps({"opts": view.opts, "kept": kept}))
            except OSError:
                pass  # not kept: the next run asks env.py again
        return view, kept

    def _recalled(self) -> tuple[EnvView, dict[str, bool]] | None:
        """The view kept for these two templates, if any."""
        if self.view_record is None:
            return None
        try:
            body = json.loads(self.view_record.read_text())
            return EnvView(tuple(body["opts"]["heads"]), body["opts"]), dict(body["kept"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none yet, or unreadable: env.py is asked

    def _ask_env(self) -> tuple[EnvView, dict[str, bool]]:
        """Run env.py on the checked database: its view, and its filters' verdicts on the model-less tables."""
        try:
            migrator = Migrator(self.settings, self.url)
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
    def version_table(self) -> str:
        """The name of env.py's version table when it lives in the checked schema, else ''."""
        schema, name = self.env.version_table
        return name if schema == self.schema else ""

    @cached_property
    def filtered_out(self) -> set[str]:
        """Tables env.py's include_name/include_object leave out of autogenerate: not compared."""
        return {name for name, kept in self._env[1].items() if not kept}

    @cached_property
    def compared(self) -> list[Finding]:
        """Every C1-C5 difference between the two catalogs."""
        return compare_catalogs(
            self.models_catalog,
            self.catalog,
            allow_tables=self.settings.allow_tables,
            ignore_tables=self.filtered_out,
            version_table=self.version_table or "\0",
        )

    def findings(self, rule: str) -> list[Finding]:
        """The comparison's findings of one rule id."""
        return [f for f in self.compared if f.rule == rule]

    @cached_property
    def model_tables(self) -> dict[str, Any]:
        """The models' tables in the checked schema, by name."""
        return dict(self.models_catalog["tables"])

    @cached_property
    def db_tables(self) -> set[str]:
        """Table names in the checked database, without Alembic's version table and the filtered ones."""
        return set(self.catalog["tables"]) - {self.version_table} - self.filtered_out

    @cached_property
    def missing_tables(self) -> list[str]:
        """Model tables the database lacks."""
        return sorted(set(self.model_tables) - self.db_tables)

    @cached_property
    def extra_tables(self) -> list[str]:
        """Database tables no model declares, minus ``allow_tables``."""
        return sorted(self.db_tables - set(self.model_tables) - set(self.settings.allow_tables))

    @cached_property
    def current_heads(self) -> tuple[str, ...]:
        """The revisions env.py's version table holds (empty at base)."""
        return self.env.heads

    @cached_property
    def revision_files(self) -> list[Path]:
        """The revision files Alembic reads for this database: in the folders env.py chose, else the ini's."""
        try:
            return self.env.revision_files
        except NotChecked:
            return version_files(self.script)

    @cached_property
    def history(self) -> History:
        """The revision files' history, read without importing them."""
        return History.read(self.revision_files)

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
