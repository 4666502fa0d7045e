"""Each reviewed revision's SQL from the project's own Alembic in offline mode, emitted in a thread of its own.

The project's interpreter starts (and later ends) while dbops copies the database the first revision
is measured on: neither waits for the other. It runs on a standing read-only copy of a template, and in
offline mode env.py executes nothing there. What it emitted is remembered, keyed like a template
(:mod:`dbops.cache`: the migration files, the settings, the interpreter and its libraries, every
project file the agent loaded): a revision reviewed again unchanged needs no interpreter at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from dbops.cache.inputs import code_key
from dbops.cache.store import Entry
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import DbopsError
from dbops.migrations.graph import History
from dbops.project.runner import Project, collecting

# A revision's offline output (the agent's reply), or why Alembic could not emit it.
Emitted = dict[str, Any] | str


def _entries(settings: Settings, history: History, revisions: list[str]) -> dict[str, Entry]:
    """Each revision's record: everything a template of the history depends on, the revision and its parents."""
    base = code_key(settings, "offline sql", models=False)
    return {
        rev: Entry(settings, "review", rev, f"{base}|{rev}|{'|'.join(history.revisions[rev].downs)}")
        for rev in revisions
    }


class OfflineSql:
    """The agent emitting every revision's SQL not known yet; ``get`` waits for the SQL, ``join`` for the agent."""

    def __init__(self, settings: Settings, where: Callable[[], URL], history: History, revisions: list[str]) -> None:
        self._settings = settings
        self.sql: dict[str, Emitted] = {}
        self._error: BaseException | None = None
        self._done: tuple[dict[str, Entry], set[str] | None, dict[str, Any]] | None = None
        self._ready = threading.Event()
        self._revisions = list(revisions)
        entries = _entries(settings, history, revisions)
        for rev in revisions:
            hit = entries[rev].lookup()
            if hit is not None:
                self.sql[rev] = hit.result
        missing = [rev for rev in revisions if rev not in self.sql]
        self._thread = threading.Thread(
            target=self._run, args=(where, history, missing, entries), name="dbops-offline-sql", daemon=True
        )
        if missing:
            self._thread.start()
        else:
            self._ready.set()

    def _run(self, where: Callable[[], URL], history: History, revisions: list[str], entries: dict[str, Entry]) -> None:
        settings = self._settings
        try:
            with (
                collecting() as loaded,
                Project(settings, where(), {"a": 0, "b": 0}) as project,
            ):  # no guard: no migration
                emitted = {}
                for rev in revisions:
                    downs = list(history.revisions[rev].downs)
                    try:
                        emitted[rev] = project.request(
                            "offline_sql", f"emitting {rev}'s SQL offline", revision=rev, parents=downs
                        )
                    except DbopsError as exc:
                        self.sql[rev] = exc.message
                self.sql.update(emitted)
                self._ready.set()  # the agent ends while the statements are measured
            # What it loaded is known once it ended; remembered by join(), in the caller's thread (Python 3.11's
            # ast.parse, which the record's key uses, is not safe in two threads at once).
            self._done = (entries, loaded.files, emitted)
        except BaseException as exc:  # noqa: BLE001 - handed to the thread that waits, which raises it
            self._error = exc
        finally:
            self._ready.set()

    def get(self) -> dict[str, Emitted]:
        """Every revision's offline output; the agent's failure to start, raised here."""
        self._ready.wait()
        if self._error is not None and any(rev not in self.sql for rev in self._revisions):
            raise self._error
        return self.sql

    def join(self) -> None:
        """Wait for the agent to end; remember what it emitted."""
        if self._thread.is_alive():
            self._thread.join()
        if self._done is not None:
            entries, loaded, emitted = self._done
            self._done = None
            for rev, body in emitted.items():
                entries[rev].remember(body, loaded)
