"""Finer cache keys for in-process steps: the Python files they loaded, not every file in the project.

An in-process step (consistency, migrate, round-trip, blockers, smoke) can only run code from modules in
``sys.modules`` or from files it executes directly (Alembic's scripts, which the caller names), and can
only read data files: so its key hashes the project's Python files loaded when it last passed, every
non-Python file, the caller's always-included paths, and the list of Python file names (a new file may
shadow an import). ``sys.modules`` is shared by concurrent steps, so the list is a superset: safe.
Loaded modules count by their syntax tree (comments and blank lines cannot change what runs); the
always-included paths (the migration scripts, which the blocker scan reads as text) count byte for byte.
"""

from __future__ import annotations

import ast
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from dbops.core.discover import is_tracked, project_files, under
from dbops.core.private import write_private
from dbops.pipeline.stepcache import input_key

_TREES: dict[str, str] = {}  # content hash -> syntax-tree hash, so each file version is parsed once


def _tree_digest(path: Path) -> str:
    """A hash of the file's syntax tree (of its bytes when it does not parse)."""
    data = path.read_bytes()
    raw = hashlib.sha256(data).hexdigest()
    if raw not in _TREES:
        try:
            _TREES[raw] = hashlib.sha256(ast.dump(ast.parse(data)).encode()).hexdigest()
        except (SyntaxError, ValueError):
            _TREES[raw] = raw
    return _TREES[raw]


def loaded_project_files(root: Path) -> list[str] | None:
    """The project's own Python files loaded here or by the project's interpreter (relative, sorted); None: unknown."""
    from dbops.project.runner import loaded_by_project

    by_project = loaded_by_project()
    if by_project is None:
        return None
    paths = [getattr(module, "__file__", None) for module in list(sys.modules.values())]
    found = set()
    for path in [*paths, *by_project]:
        if isinstance(path, str) and path.endswith(".py"):
            rel = is_tracked(root, path)
            if rel:
                found.add(rel)
    return sorted(found)


class LoadedFilesKey:
    """The cache key of one in-process step, and the wrapper that remembers what it loaded."""

    def __init__(
        self, root: Path, folder: Path, step: str, always: Callable[[], Sequence[str]], extra: Sequence[str]
    ) -> None:
        self.root = root
        self.sidecar = folder / f"{step}.loaded.json"
        self.always = always  # read when hashing: finding the migration scripts costs a little
        self.extra = list(extra)

    def _recorded(self) -> list[str] | None:
        """The files recorded after earlier passes, or None."""
        try:
            loaded = json.loads(self.sidecar.read_text())
        except (OSError, ValueError):
            return None
        return loaded if isinstance(loaded, list) and all(isinstance(f, str) for f in loaded) else None

    def key(self) -> str:
        """Hash of the files the step loaded in earlier passes, all non-Python files, and the Python file names."""
        loaded = self._recorded()
        files = project_files(self.root)
        if loaded is None:
            return input_key(self.root, ["."], ["unknown loaded files", *self.extra])  # as coarse as before
        always = list(self.always())
        py_names = [f for f in files if f.endswith(".py")]
        data = [f for f in files if not f.endswith(".py")]
        code = [
            f"{rel}:{_tree_digest(self.root / rel)}" if (self.root / rel).is_file() else f"{rel}: gone"
            for rel in loaded
            if not under(rel, always)
        ]
        return input_key(self.root, [*data, *always], [*self.extra, "\0".join(py_names), *code])

    def wrap(self, run: Callable[[], object]) -> Callable[[], object]:
        """``run``, then remember every project Python file loaded by then (only read after a pass)."""

        def call() -> object:
            result = run()
            loaded = loaded_project_files(self.root)
            if loaded is None:  # an agent could not say what it loaded: the next key is the coarse one
                self.sidecar.unlink(missing_ok=True)
                return result
            # The union with last time's list: what a run loads depends on which steps ran beside it
            # (they share sys.modules), and a list that flips between runs would never hit. A superset
            # only makes the key more sensitive; the list grows only when new files load, then holds.
            self._write(sorted(set(self._recorded() or ()) | set(loaded)))
            return result

        return call

    def _write(self, loaded: list[str]) -> None:
        try:
            write_private(self.sidecar, json.dumps(loaded))
        except OSError:
            pass  # an unwritable cache only costs a rerun next time
