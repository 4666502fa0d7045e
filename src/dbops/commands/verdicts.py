"""Consistency verdicts remembered by their inputs: the same files and settings give the same answer.

The default consistency check compares the models with a database that the migration history alone
built, so its verdict depends on files and settings only: the migration folders, alembic.ini,
pyproject.toml, every project module loaded while it ran (the models and what they import), dbops's
own modules, the rule plug-ins' and SQLAlchemy's, Alembic's and psycopg's versions, the interpreter,
the settings and environment that choose the server, and the rules and revision asked for. After a
run that passed, those inputs are written down with the result; a later run whose inputs all hash the
same prints that result without importing SQLAlchemy or reaching a server. A check of the project's
own database (``--live``) is never remembered: a database changes outside any file. ``--no-cache``
runs every rule.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbops.commands.fastreset import context_key, dist_versions, file_digests, migration_folders, project_modules
from dbops.core.config import Settings
from dbops.core.findings import CheckResult
from dbops.core.private import write_private

RECORD_VERSION = 1
NOTE = "remembered: nothing it depends on changed since this verdict (--no-cache runs every rule again)"


def _ask(settings: Settings, rules: Sequence[str] | None, revision: str | None) -> str:
    """What was asked, and of which server: the settings, the environment, the rules and the revision."""
    chosen = sorted(rules) if rules is not None else None
    return hashlib.sha256(json.dumps([context_key(settings, revision or "head", False), chosen]).encode()).hexdigest()


def _tag(settings: Settings) -> str:
    # Projects may share a cache directory (DBOPS_CACHE_DIR): each project and database has its own records.
    return hashlib.sha256(f"{settings.root}|{settings.database}".encode()).hexdigest()[:12]


def _path(settings: Settings, ask: str) -> Path:
    return settings.cache_dir / "verdicts" / f"consistency-{_tag(settings)}-{ask[:16]}.json"


def records(settings: Settings) -> list[Path]:
    """The remembered verdicts of this project and database (one per rules and revision asked)."""
    return sorted((settings.cache_dir / "verdicts").glob(f"consistency-{_tag(settings)}-*.json"))


def _library_files() -> list[str]:
    """dbops's own loaded modules, wherever it is installed: a change to a rule changes the verdict."""
    names = [m for m in list(sys.modules) if m == "dbops" or m.startswith("dbops.")]
    files = {getattr(sys.modules[m], "__file__", None) for m in names}
    return sorted(str(Path(f).resolve()) for f in files if isinstance(f, str))


def _plugins() -> list[str]:
    """The distributions that add rules (entry point group ``dbops.checks``), with their versions."""
    from importlib.metadata import entry_points

    found = {f"{ep.dist.name}=={ep.dist.version}" for ep in entry_points(group="dbops.checks") if ep.dist}
    return sorted(found)


def lookup(settings: Settings, rules: Sequence[str] | None, revision: str | None) -> CheckResult | None:
    """The remembered result of a passing run with exactly these inputs, or None (then run the rules)."""
    ask = _ask(settings, rules, revision)
    try:
        body: Any = json.loads(_path(settings, ask).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("version") != RECORD_VERSION or body.get("ask") != ask:
        return None
    if body.get("inputs") != file_digests(settings, body["folders"], body["modules"]):
        return None  # a file changed, appeared or went away
    if body.get("dists") != dist_versions() or body.get("plugins") != _plugins():
        return None
    return CheckResult.from_dict(body["result"])


def remember(settings: Settings, rules: Sequence[str] | None, revision: str | None, result: CheckResult) -> None:
    """After a run that passed every rule: write down its inputs and its result (never a failing one)."""
    if not result.ok:
        return  # a failing verdict is always worked out afresh: the next run may be after a fix
    folders = migration_folders(settings)
    modules = sorted({*(str(p) for p in project_modules(settings)), *_library_files()})
    body = {
        "version": RECORD_VERSION,
        "ask": (ask := _ask(settings, rules, revision)),
        "folders": folders,
        "modules": modules,
        "inputs": file_digests(settings, folders, modules),
        "dists": dist_versions(),
        "plugins": _plugins(),
        "result": result.to_dict(),
    }
    try:
        write_private(_path(settings, ask), json.dumps(body))
    except OSError:
        pass  # an unwritable cache only costs a full run next time


def forget(settings: Settings) -> None:
    """Drop every remembered verdict of this project and database."""
    for path in records(settings):
        path.unlink(missing_ok=True)
