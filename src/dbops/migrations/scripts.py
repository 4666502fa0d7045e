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
from dbops.core.discover import skipped_dir
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


def _module_files(name: str) -> list[Path]:
    """What ``import name`` would run, found on sys.path without importing: each package's __init__ and the module."""
    from importlib.machinery import PathFinder

    top, *rest = name.split(".")
    spec = PathFinder.find_spec(top)
    if spec is None:
        return []
    found = [Path(spec.origin)] if spec.origin and spec.has_location else []
    bases = list(spec.submodule_search_locations or ())
    for part in rest:
        step = [p for base in bases for p in (Path(base, part, "__init__.py"), Path(base, part + ".py")) if p.is_file()]
        if not step:
            break  # a name imported from a module (a function, a class), or nothing at all
        found.append(step[0])
        bases = [str(step[0].parent)] if step[0].name == "__init__.py" else []
    return found


def _own(path: Path, root: Path) -> bool:
    """Under the project root, and not in a virtualenv, a cache or site-packages there."""
    if not path.is_relative_to(root):
        return False
    parts = path.relative_to(root).parts[:-1]
    return not any(skipped_dir(p) or p.startswith(".") or p in ("site-packages", "dist-packages") for p in parts)


def imported_project_files(files: Iterable[Path], root: Path) -> list[Path]:
    """The project's own modules that these scripts import (a helper a revision calls shapes its result)."""
    root = root.resolve()
    found: set[Path] = set()
    seen: set[str] = set()  # each revision imports sqlalchemy and alembic: look each name up once
    for path in files:
        if path.suffix != ".py":
            continue
        try:
            tree = parse_source(path.read_text(errors="replace"), str(path))
        except (OSError, SyntaxError, ValueError):
            continue  # the history scan names a file that does not parse
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for name in set(names) - seen:
                seen.add(name)
                found.update(f.resolve() for f in _module_files(name) if _own(f.resolve(), root))
    return sorted(found)
