"""What the project's interpreter loaded: every agent of this process reports its files here when it ends.

Apart from the runner (no driver, no subprocess), so a remembered result can be checked without them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

# The project's files every agent of this process imported (env.py, models, revisions, seed), for what a
# step's result depends on; None once an agent ended without saying (then nothing may be assumed).
_LOADED: dict[str, set[str] | None] = {"files": set()}
# Per thread: the collections open in it (a template build, say), each told what its agents loaded.
_COLLECTING = threading.local()


class Loaded:
    """What the agents started inside a ``collecting()`` block loaded; ``files`` is None if one could not say."""

    def __init__(self) -> None:
        self.files: set[str] | None = set()

    def add(self, found: list[str] | None) -> None:
        """Add one agent's list (None: unknown, from then on)."""
        if self.files is not None:
            self.files = None if found is None else self.files | set(found)


@contextlib.contextmanager
def collecting() -> Iterator[Loaded]:
    """Collect what the agents started in this thread load until the block ends."""
    loaded = Loaded()
    stack: list[Loaded] = _COLLECTING.__dict__.setdefault("stack", [])
    stack.append(loaded)
    try:
        yield loaded
    finally:
        stack.remove(loaded)


def loaded_by_project() -> set[str] | None:
    """The project files the agents of this process loaded so far; None when one could not say."""
    files = _LOADED["files"]
    return None if files is None else set(files)


def note_loaded(found: list[str] | None) -> None:
    """Count files as loaded by the project (a remembered result's, reused inside this work); None: unknown."""
    files = _LOADED["files"]
    if files is not None:
        if found is None:
            _LOADED["files"] = None
        else:
            files.update(found)
    for loaded in _COLLECTING.__dict__.get("stack", []):
        loaded.add(found)
