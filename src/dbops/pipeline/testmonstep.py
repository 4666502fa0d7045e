"""full-check's test steps run only the tests a change can affect, as pytest-testmon selects them.

pytest-testmon records which code each test executed (coverage.py, comments and blank lines ignored)
and reruns the tests whose code changed, new tests and last run's failures. It cannot see what runs
outside the test process or is not Python: every non-Python file (.sql, alembic.ini, pyproject.toml),
the migration folders, the seed and the models (they build and define the databases the tests use,
in the project's own interpreter), and conftest.py files (their hooks run during collection). A
change to any of those, or another server or test command, runs every test once (testmon still
records). Its data lives in the project's cache folder, one file per step.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops.core.discover import is_tracked, project_files, under
from dbops.core.errors import DbopsError
from dbops.core.private import write_private

NOT_INSTALLED = "pytest-testmon is not installed: pip install pytest-testmon"


def always_full_paths(root: Path, settings: Any) -> list[str]:
    """Files whose code runs outside the tests (a template's migrations and seed): any change runs everything."""
    paths: list[str] = []
    try:
        from dbops.migrations import check_history, open_scripts, version_folders

        script = open_scripts(settings)
        check_history(settings, script)
        paths += [str(Path(script.dir).resolve()), *(str(p.resolve()) for p in version_folders(script))]
    except DbopsError:
        return ["."]  # no readable history: the migrate step says why; every test runs meanwhile
    if settings.seed:
        spec = importlib.util.find_spec(settings.seed.partition(":")[0])
        if spec is None or not spec.origin:
            return ["."]
        paths.append(spec.origin)
    out = [is_tracked(root, p) for p in paths]
    return ["."] if None in out else sorted({p for p in out if p})


def _schema_paths(root: Path, settings: Any) -> list[str]:
    """The models' module, or their package's folder: the schema the tests' databases are checked against."""
    spec = importlib.util.find_spec(settings.metadata.partition(":")[0]) if settings.metadata else None
    if spec is None or not spec.origin:
        return []
    origin = Path(spec.origin)
    rel = is_tracked(root, str(origin.parent if spec.submodule_search_locations else origin))
    return [rel] if rel else []


def unseen_files(root: Path, settings: Any) -> dict[str, str]:
    """Each file pytest-testmon cannot judge, with the hash of its content."""
    always = [*always_full_paths(root, settings), *_schema_paths(root, settings)]
    out: dict[str, str] = {}
    for rel in project_files(root):
        if rel.endswith(".py") and Path(rel).name != "conftest.py" and not under(rel, always):
            continue
        try:
            out[rel] = hashlib.sha256((root / rel).read_bytes()).hexdigest()[:16]
        except OSError:
            continue  # vanished while walking
    return out


def _why_all(before: dict[str, Any] | None, now: dict[str, Any]) -> str:
    """Why every test must run ("" when testmon's own selection can be trusted)."""
    if before is None:
        return "no record of an earlier run"
    if before.get("command") != now["command"]:
        return "another server or test command than last time"
    old, new = before.get("files", {}), now["files"]
    changed = sorted(rel for rel in old.keys() | new.keys() if old.get(rel) != new.get(rel))
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        return f"{changed[0]}{more} changed, which pytest-testmon cannot see"
    return ""


@dataclass
class Selection:
    """A test step's pytest arguments and environment, and what its summary says about the choice."""

    args: list[str]
    note: str
    env: dict[str, str] = field(default_factory=dict)
    narrowed: bool = False
    state: Path | None = None
    _now: dict[str, Any] = field(default_factory=dict)

    def finish(self, code: int) -> None:
        """After a run that finished (passed or failed), testmon's data covers the files as they are now."""
        if self.state is not None and code in (0, 1, 5):
            write_private(self.state, json.dumps(self._now))


def select(settings: Any, name: str, target: str, extra: Sequence[str]) -> Selection:
    """The pytest arguments that let pytest-testmon choose the tests of step ``name``, or run all of them."""
    if importlib.util.find_spec("testmon") is None:
        return Selection([target, *extra, "-p", "no:cacheprovider"], f"all tests ({NOT_INSTALLED})")
    root = Path(settings.root).resolve()
    folder = Path(settings.cache_dir) / "testmon"
    data, state = folder / f"{name}.testmondata", folder / f"{name}.state.json"
    where = [settings.resolved_backend, settings.url or "", settings.pg_version or "", settings.docker_image]
    now = {"command": [target, *extra, *where], "files": unseen_files(root, settings)}
    try:
        before = json.loads(state.read_text()) if data.is_file() else None
    except (OSError, ValueError):
        before = None
    why = _why_all(before if isinstance(before, dict) else None, now)
    # testmon reads pytest's --lf option, which exists only with the cache plugin: its folder goes under ours.
    args = [target, *extra, "--testmon", "-o", f"cache_dir={folder / 'pytest-cache'}"]
    # -m (the integration step's fast subset) would turn testmon's selection off unless forced.
    args.append("--testmon-noselect" if why else "--testmon-forceselect")
    note = f"all tests ({why})" if why else "the tests pytest-testmon found affected by the changes, or failed last"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return Selection(args, note, {"TESTMON_DATAFILE": str(data)}, not why, state, now)
