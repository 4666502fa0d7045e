"""full-check's steps remembered like any other result: the runner's ``hit`` and ``store``, and what a step loaded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from dbops.cache.store import Entry
from dbops.core.config import Settings
from dbops.project.loaded import collecting, loaded_by_project

T = TypeVar("T")


class StepRecords:
    """One record per step: the key of its inputs, the files the project's interpreter loaded, its summary."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._entries: dict[str, Entry] = {}
        self._loaded: dict[str, set[str] | None] = {}
        self._lock = threading.Lock()  # steps end in worker threads

    def hit(self, step: str, key: str) -> dict[str, object] | None:
        """The step's remembered pass with exactly these inputs (its summary marked remembered), or None."""
        entry = self._entries[step] = Entry(self.settings, "steps", step, key)
        found = entry.lookup()
        return None if found is None else {"summary": f"{found.result.get('summary', '')} ({found.note})"}

    def collected(self, step: str, run: Callable[[], T]) -> Callable[[], T]:
        """``run``, noting what the project's interpreter loaded meanwhile (in this process: steps share templates)."""

        def call() -> T:
            with collecting() as loaded:
                result = run()
            everything = loaded_by_project()
            with self._lock:
                self._loaded[step] = None if loaded.files is None or everything is None else loaded.files | everything
            return result

        return call

    def store(self, step: str, key: str, summary: str, seconds: float) -> None:
        """Remember that the step passed with these inputs."""
        entry = self._entries.get(step) or Entry(self.settings, "steps", step, key)
        with self._lock:
            loaded = self._loaded.pop(step, set())
        entry.remember({"summary": summary, "seconds": round(seconds, 3)}, loaded)
