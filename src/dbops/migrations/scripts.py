"""Reading a project's revision files without importing them: where they are, what they declare, the floor."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from dbops.core.config import Settings
from dbops.core.errors import ConfigError
from dbops.migrations import alembic_config, version_folders

FLOOR_MARKER = re.compile(r"#\s*dbops:\s*downgrade-floor\b")


def open_scripts(settings: Settings) -> ScriptDirectory:
    """The project's ScriptDirectory without loading any script (a file that does not parse is a finding here)."""
    try:
        return ScriptDirectory.from_config(alembic_config(settings))
    except CommandError as exc:
        raise ConfigError(f"cannot read the migration scripts: {exc}", "check script_location in alembic.ini") from None


def version_files(script: ScriptDirectory) -> list[Path]:
    """The .py files in a script directory's version locations (read, never imported)."""
    files: list[Path] = []
    for folder in version_folders(script):
        files += sorted(p for p in folder.rglob("*.py") if p.name != "__init__.py")
    return files


def module_literals(tree: ast.Module) -> dict[str, object]:
    """Names assigned a literal at module level (revision, down_revision, branch_labels...), without importing."""
    values: dict[str, object] = {}
    for node in tree.body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else (node.targets[0] if isinstance(node, ast.Assign) else None)
        )
        value = getattr(node, "value", None)
        if isinstance(target, ast.Name) and value is not None:
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue  # computed at import time: not knowable without running the file
    return values


def declared(tree: ast.Module) -> tuple[str | None, tuple[str, ...]]:
    """(revision, down revisions) assigned at module level, read without importing the file."""
    values = module_literals(tree)
    rev, down = values.get("revision"), values.get("down_revision")
    downs = (
        (down,)
        if isinstance(down, str)
        else tuple(d for d in down if isinstance(d, str))
        if isinstance(down, (tuple, list))
        else ()
    )
    return (rev if isinstance(rev, str) else None), downs


@functools.lru_cache(maxsize=1024)
def parse_source(source: str, name: str) -> ast.Module:
    """``ast.parse``, once per text: the history scan, C6, the blocker scan and the floor read the same files.

    The tree is shared: callers must not change it.
    """
    return ast.parse(source, name)


def floor_revisions(paths: Iterable[Path], floor: str | None = None) -> set[str]:
    """Revisions at or below the downgrade floor: ``floor`` and every file marked ``# dbops: downgrade-floor``."""
    graph: dict[str, tuple[str, ...]] = {}
    marked = [floor] if floor else []
    for path in paths:
        try:
            source = path.read_text(encoding="utf-8")
            rev, downs = declared(parse_source(source, str(path)))
        except (OSError, SyntaxError, ValueError):
            continue
        if rev is not None:
            graph[rev] = downs
            if FLOOR_MARKER.search(source):
                marked.append(rev)
    below: set[str] = set()
    todo = [r for r in marked if r]
    while todo:
        rev = todo.pop()
        if rev not in below:
            below.add(rev)
            todo += graph.get(rev, ())
    return below
