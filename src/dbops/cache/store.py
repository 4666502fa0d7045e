"""Remembered results: one record per result under the cache folder, reused while nothing it depends on changed.

A record holds the key of the inputs known before the work (:mod:`dbops.cache.inputs`), each file the
project's interpreter loaded while doing it with its digest, the result, and when. A lookup hits when
the key is the same and every loaded file still has its digest (a file whose size, times and inode are
unchanged is not read again). A result is not remembered when what the work loaded is unknown, or when
a loaded file changed while it ran. A record that cannot be read or written costs one warning line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
import traceback
from collections.abc import (
    Iterator,
    Sequence,
)
from dataclasses import dataclass
from typing import Any

from dbops.cache.inputs import code_key, digest_loaded, server
from dbops.core.config import Settings
from dbops.core.private import write_private
from dbops.project.loaded import Loaded, collecting, note_loaded

RECORD_VERSION = 1
# A file changed this close before the work started may have changed while it ran (coarse file-system clocks).
SETTLE_NS = 20_000_000


def remembered(at: float) -> str:
    """The one way a reused result is marked in the output."""
    return f"remembered: nothing it depends on changed since {time.strftime('%H:%M', time.localtime(at))}"


def warn(message: str) -> None:
    """A cache that cannot read or write says so on one line (the traceback with --debug); the work runs anyway."""
    print(f"warning: {message}", file=sys.stderr)
    if os.environ.get("DBOPS_DEBUG") or "--debug" in sys.argv:
        traceback.print_exc()


@dataclass(frozen=True)
class Hit:
    """A remembered result: what the work gave, when, and the files it loaded."""

    result: dict[str, Any]
    at: float
    loaded: list[str]

    @property
    def note(self) -> str:
        """The output's mark for this result."""
        return remembered(self.at)


class Entry:
    """One result's record: ``kind`` and ``name`` say where it lives, ``key`` what it depends on before it runs."""

    def __init__(self, settings: Settings, kind: str, name: str, key: str) -> None:
        # Projects may share a cache folder (DBOPS_CACHE_DIR): each project and database has its own records.
        tag = hashlib.sha256(f"{settings.root.resolve()}|{settings.database}|{name}".encode()).hexdigest()[:16]
        self.path = settings.cache_dir / "results" / kind / f"{tag}.json"
        self.key = key
        self.started = time.time_ns()

    def _read(self) -> dict[str, Any] | None:
        try:
            body: Any = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None  # nothing remembered yet
        except (OSError, ValueError) as exc:
            warn(f"cannot read the cache record {self.path} ({type(exc).__name__}: {exc}); the work runs")
            return None
        if not isinstance(body, dict) or not isinstance(body.get("loaded"), dict) or "result" not in body:
            warn(f"the cache record {self.path} is not one dbops wrote; the work runs")
            return None
        return body

    def lookup(self) -> Hit | None:
        """The remembered result if nothing it depends on changed; its loaded files then count for the caller too."""
        body = self._read()
        if body is None or body.get("version") != RECORD_VERSION or body.get("key") != self.key:
            return None
        known: dict[str, list[object]] = body["loaded"]
        now = digest_loaded(known, known)
        if any(now[name][1] != known[name][1] for name in known):
            return None  # a file it loaded changed or went away
        note_loaded(list(known))  # a result built on this one depends on the same files
        return Hit(body["result"], float(body.get("at", 0)), sorted(known))

    @contextlib.contextmanager
    def collect(self) -> Iterator[Loaded]:
        """Collect what the project's interpreter loads while the work runs."""
        self.started = time.time_ns()
        with collecting() as loaded:
            yield loaded

    def digests(self, loaded: set[str] | None) -> dict[str, list[object]] | None:
        """The loaded files' digests, or None when they cannot be trusted (unknown, or changed while it ran)."""
        if loaded is None:
            return None
        found = digest_loaded(loaded)
        if any(sig is not None and sig[2] >= self.started - SETTLE_NS for sig, _ in found.values()):  # type: ignore[index]
            return None
        return found

    def remember(self, result: dict[str, Any], loaded: set[str] | None) -> None:
        """Write the result down with what it depends on; a result that cannot be trusted removes the record."""
        found = self.digests(loaded)
        try:
            if found is None:
                self.path.unlink(missing_ok=True)
                return
            body = {"version": RECORD_VERSION, "key": self.key, "loaded": found, "result": result, "at": time.time()}
            write_private(self.path, json.dumps(body))
        except OSError as exc:
            warn(f"cannot write the cache record {self.path} ({exc.strerror or exc}); the next run does the work again")

    def forget(self) -> None:
        """Drop the record (a failing result is worked out afresh each time)."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            warn(f"cannot remove the cache record {self.path} ({exc.strerror or exc})")


def loaded_key(found: dict[str, list[object]]) -> str:
    """One hash over the loaded files' paths and digests (a template's name carries it)."""
    return hashlib.sha256(json.dumps(sorted((k, v[1]) for k, v in found.items())).encode()).hexdigest()


def verdict_entry(settings: Settings, rules: Sequence[str] | None, revision: str | None) -> Entry | None:
    """The consistency verdict's record (`consistency` and full-check's step share it); None: the server is unknown."""
    chosen = sorted(rules) if rules is not None else None
    where = server(settings)  # '' when it cannot be named: nothing is remembered, the run says why
    if not where:
        return None
    key = code_key(settings, "consistency", chosen, revision, where)
    return Entry(settings, "consistency", json.dumps([chosen, revision]), key)
