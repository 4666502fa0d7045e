"""Reading a project's revision files without importing them: where they are, what they declare, the floor."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterable
from pathlib import Path

from dbops.core.config import Settings
from dbops.core.discover import installed_code
from dbops.migrations.scriptdir import Scripts, open_scripts, revision_files

FLOOR_MARKER = re.compile(r"#\s*dbops:\s*downgrade-floor\b")


def version_files(script: Scripts) -> list[Path]:
    """The .py files in a script directory's version locations (read, never imported)."""
    return revision_files(script)


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


def _own(path: Path) -> bool:
    """Code no distribution version stands for: not Python's own, not site-packages', not in a tool folder."""
    if installed_code(str(path)):
        return False
    return not any(p.startswith(".") or p in ("__pycache__", "node_modules") for p in path.parts[:-1])


def _imported_names(tree: ast.Module, path: Path) -> list[str | Path]:
    """Absolute module names imported, and the files relative imports name (``from . import x``)."""
    names: list[str | Path] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.ImportFrom):
            base = path.parent.joinpath(*[".."] * (node.level - 1), *(node.module or "").split(".")).resolve()
            for target in [base, *(base / alias.name for alias in node.names)]:
                names += [p for p in (target.with_suffix(".py"), target / "__init__.py") if p.is_file()]
    return names


def imported_project_files(files: Iterable[Path], skip: Iterable[Path] = ()) -> list[Path]:
    """The code the scripts import that no installed distribution stands for, followed to its closure.

    A revision's helper, the helper's own imports, a shared package beside the project: any of them
    shapes what the history builds. Found on sys.path without importing anything. ``skip`` is neither
    counted nor followed (the models' module, whose DDL the caller counts instead).
    """
    skipped = {Path(s).resolve() for s in skip}
    found: set[Path] = set()
    seen: set[str] = set()  # each revision imports sqlalchemy and alembic: look each name up once
    queue = [p for p in files if p.suffix == ".py"]
    scanned: set[Path] = set()
    while queue:
        path = queue.pop()
        if path in scanned:
            continue
        scanned.add(path)
        try:
            tree = parse_source(path.read_text(errors="replace"), str(path))
        except (OSError, SyntaxError, ValueError):
            continue  # the history scan names a file that does not parse
        for name in _imported_names(tree, path):
            if isinstance(name, str):
                if name in seen:
                    continue
                seen.add(name)
            for module in [name] if isinstance(name, Path) else _module_files(name):
                module = module.resolve()
                if _own(module) and module not in found and module not in skipped:
                    found.add(module)
                    queue.append(module)
    return sorted(found)


def no_revisions(settings: Settings, folders: list[str] | None = None) -> str:
    """Why a task that walks the history saw nothing: the folders it looked in (env.py's, else the ini's)."""
    chosen = folders if folders is not None else [str(f) for f in open_scripts(settings).version_locations]
    where = (
        "the version folders env.py chose" if folders is not None else f"the folders {settings.alembic_ini.name} names"
    )
    shown = ", ".join(_shown(Path(folder), settings.root) for folder in chosen) or "?"
    return f"no revision found in {shown} ({where}): nothing was walked"


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
