"""Each reviewed revision's SQL from the project's own Alembic in offline mode, emitted in a thread of its own.

The project's interpreter starts (and later ends) while dbops copies the database the first revision
is measured on: neither waits for the other. It runs on a standing read-only copy of a template, and in
offline mode env.py executes nothing there. What it emitted is remembered, keyed like a template
(:mod:`dbops.lifecycle.identity`: the migration files, the settings, the interpreter and its libraries,
every project file the agent loaded): a revision reviewed again unchanged needs no interpreter at all.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import DbopsError
from dbops.core.private import write_private
from dbops.lifecycle import identity
from dbops.migrations.graph import History
from dbops.project.runner import Project, collecting

# A revision's offline output (the agent's reply), or why Alembic could not emit it.
Emitted = dict[str, Any] | str


def _record(settings: Settings, rev: str) -> Path:
    return settings.cache_dir / "review" / f"{hashlib.sha256(rev.encode()).hexdigest()[:16]}.json"


def _statics(settings: Settings, history: History, revisions: list[str]) -> dict[str, str]:
    """Each revision's key: everything a template of the history depends on, the revision and its parents."""
    base = identity.static_key(settings, "history", "offline sql")
    return {
        rev: hashlib.sha256("\0".join([base, rev, *history.revisions[rev].downs]).encode()).hexdigest()
        for rev in revisions
    }


def _known(settings: Settings, rev: str, static: str) -> dict[str, Any] | None:
    """What the agent emitted for ``rev`` when nothing it depends on was different; else None."""
    try:
        body: Any = json.loads(_record(settings, rev).read_text())
    except (OSError, ValueError):
        return None  # none yet, or unreadable: emitted again
    if not isinstance(body, dict) or body.get("static") != static or not isinstance(body.get("loaded"), list):
        return None
    if body.get("loaded_key") != identity.loaded_key(body["loaded"]) or not isinstance(body.get("emitted"), dict):
        return None
    emitted: dict[str, Any] = body["emitted"]
    return emitted


def _remember(settings: Settings, rev: str, static: str, loaded: set[str] | None, emitted: dict[str, Any]) -> None:
    if loaded is None:
        return  # the agent could not say what it loaded: nothing may be assumed next time
    files = sorted(loaded)
    body = {"static": static, "loaded": files, "loaded_key": identity.loaded_key(files), "emitted": emitted}
    try:
        write_private(_record(settings, rev), json.dumps(body))
    except OSError:
        pass  # an unwritable cache only costs the interpreter next time


class OfflineSql:
    """The agent emitting every revision's SQL not known yet; ``get`` waits for the SQL, ``join`` for the agent."""

    def __init__(self, settings: Settings, where: Callable[[], URL], history: History, revisions: list[str]) -> None:
        self.sql: dict[str, Emitted] = {}
        self._error: BaseException | None = None
        self._done: tuple[Settings, dict[str, str], set[str] | None, dict[str, Any]] | None = None
        self._ready = threading.Event()
        self._revisions = list(revisions)
        statics = _statics(settings, history, revisions)
        for rev in revisions:
            known = _known(settings, rev, statics[rev])
            if known is not None:
                self.sql[rev] = known
        missing = [rev for rev in revisions if rev not in self.sql]
        self._thread = threading.Thread(
            target=self._run, args=(settings, where, history, missing, statics), name="dbops-offline-sql", daemon=True
        )
        if missing:
            self._thread.start()
        else:
            self._ready.set()

    def _run(
        self,
        settings: Settings,
        where: Callable[[], URL],
        history: History,
        revisions: list[str],
        statics: dict[str, str],
    ) -> None:
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
            self._done = (settings, statics, loaded.files, emitted)
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
            settings, statics, loaded, emitted = self._done
            self._done = None
            for rev, body in emitted.items():
                _remember(settings, rev, statics[rev], loaded, body)
