"""Results of passed steps, keyed by a hash of their inputs, so an unchanged tree is not checked twice."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from dbops.core.private import write_private

_SKIP_DIRS = {
    ".git",
    ".venv",
    ".nox",
    ".dbops",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "node_modules",
    "reports",
}


def _files(root: Path, patterns: Iterable[str]) -> list[Path]:
    """Files under ``root`` matching the patterns (a folder means every file below it)."""
    found: set[Path] = set()
    for pattern in patterns:
        target = root / pattern
        if target.is_file():
            found.add(target)
        elif target.is_dir():
            for dirpath, dirnames, filenames in os.walk(target):
                dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
                found.update(Path(dirpath) / f for f in filenames if not f.endswith((".pyc", ".log")))
        else:
            found.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(found)


@functools.cache
def _environment() -> str:
    """The interpreter and every installed distribution's version: a tool upgrade invalidates the cache."""
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    return "\0".join([sys.executable, sys.version, *dists])


def input_key(root: Path, patterns: Sequence[str], extra: Sequence[str] = ()) -> str:
    """A hash of the matching files' paths and contents, the installed packages and ``extra``."""
    digest = hashlib.sha256("\0".join([_environment(), *extra]).encode())
    for path in _files(root, patterns):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


class StepCache:
    """One JSON record per step name: the input key of its last pass, and what it said then."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, step: str) -> Path:
        return self.folder / f"{step}.json"

    def hit(self, step: str, key: str) -> dict[str, object] | None:
        """The record of a pass with exactly this key, or None."""
        try:
            record = json.loads(self._path(step).read_text())
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("key") == key else None

    def store(self, step: str, key: str, summary: str, seconds: float) -> None:
        """Remember that the step passed with these inputs."""
        record = {"key": key, "summary": summary, "seconds": round(seconds, 3), "at": time.time()}
        try:
            # Atomic, with a temporary file per process: two runs storing at once never trip over each other.
            write_private(self._path(step), json.dumps(record))
        except OSError:
            pass  # an unwritable cache only costs a rerun next time
