"""Consistency verdicts remembered by their inputs: the same code, files and environment give the same answer.

The default consistency check compares the models with a database that the migration history alone
built, so its verdict depends on what the process ran and read, not on any data. After a run that
passed, its inputs are written down with the result:

- every loaded module that is not part of Python or of an installed distribution, wherever it lives
  (the project, dbops, a sibling package installed in editable mode), hashed byte for byte;
- the files of the migration folders, alembic.ini, pyproject.toml and every other non-Python file of
  the project (a model may read a data file), hashed;
- the listing of each folder those modules came from and of each folder on ``sys.path`` that is not
  Python's or site-packages' (a new file may shadow a module or be discovered by a package);
- every installed distribution and its version, the interpreter, ``sys.path``, the environment
  (URL passwords masked; a shell's own bookkeeping left out), the settings, the PostgreSQL binaries,
  and the rules and revision asked for.

A later run whose inputs all match prints that result without importing SQLAlchemy or reaching a
server. Only the embedded backend's verdicts are remembered (its server version is known from its
binaries); a failing verdict, a check of the project's own database (``--live``), a run during which
an input changed, and ``--no-cache`` are never taken from or written to this record.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbops.commands.fastreset import file_digests, folder_files, migration_folders, project_modules
from dbops.core.config import Settings
from dbops.core.errors import DbopsError
from dbops.core.findings import CheckResult
from dbops.core.masking import mask_text
from dbops.core.private import write_private

RECORD_VERSION = 2
NOTE = "remembered: nothing it depends on changed since this verdict (--no-cache runs every rule again)"
# A shell's bookkeeping, different at every prompt; no model can depend on it.
_VOLATILE_ENV = frozenset(
    {"_", "OLDPWD", "SHLVL", "PS1", "PS2", "PROMPT_COMMAND", "COLUMNS", "LINES", "HISTFILE", "WINDOWID"}
    | {"TERM_SESSION_ID", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY"}
)
_SITE = ("site-packages", "dist-packages")
_INSTALL_RECORDS = (".dist-info", ".egg-info", ".egg-link", ".pth")
# Inputs modified this close to the run's start may have changed while it ran: the verdict is not kept.
_SETTLE_SECONDS = 1.0


def _python_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(str(Path(paths[k]).resolve()) + os.sep for k in ("stdlib", "platstdlib") if k in paths)


def _own_code(path: str, python: tuple[str, ...]) -> bool:
    """Code that no distribution version stands for: not Python's own, not in site-packages."""
    return not path.startswith(python) and not any(part in _SITE for part in Path(path).parts)


def question(settings: Settings, rules: Sequence[str] | None, revision: str | None) -> str:
    """What is asked, in which environment, hashed (URL passwords masked first); "" when nothing may be remembered.

    Before: a run may add to ``sys.path`` (Alembic's ``prepend_sys_path``), and the next run starts without it.
    """
    fields = {k: mask_text(str(v)) for k, v in vars(settings).items()}
    env = sorted((k, mask_text(v)) for k, v in os.environ.items() if k not in _VOLATILE_ENV)
    chosen = sorted(rules) if rules is not None else None
    if settings.resolved_backend != "embedded":
        return ""  # only the embedded backend's server is known without reaching it: nothing is remembered
    try:
        pgbin = _pgbin(settings)
    except DbopsError:
        return ""  # no server binaries: the run says so in its own words
    asked = [fields, env, sys.executable, sys.version, sys.path, pgbin, chosen, revision]
    return hashlib.sha256(json.dumps(asked, default=str).encode()).hexdigest()


def _tag(settings: Settings) -> str:
    # Projects may share a cache directory (DBOPS_CACHE_DIR): each project and database has its own records.
    return hashlib.sha256(f"{settings.root}|{settings.database}".encode()).hexdigest()[:12]


def _path(settings: Settings, rules: Sequence[str] | None, revision: str | None) -> Path:
    chosen = sorted(rules) if rules is not None else None
    variant = hashlib.sha256(json.dumps([chosen, revision]).encode()).hexdigest()[:8]
    return settings.cache_dir / "verdicts" / f"consistency-{_tag(settings)}-{variant}.json"


def records(settings: Settings) -> list[Path]:
    """The remembered verdicts of this project and database (one per rules and revision asked)."""
    return sorted((settings.cache_dir / "verdicts").glob(f"consistency-{_tag(settings)}-*.json"))


def _pgbin(settings: Settings) -> str:
    """The PostgreSQL binaries the embedded backend would use (their major version decides the server)."""
    from dbops.backends.pgbin import find_pgbin

    pg = find_pgbin(settings.pg_version)
    return f"{pg.bindir}|{pg.major}|{pg.source}"


def _code_files(settings: Settings) -> list[str]:
    """Every loaded module file outside Python and site-packages, plus the project's own (wherever installed)."""
    python = _python_dirs()
    found = {str(p) for p in project_modules(settings)}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and os.path.isfile(file):
            resolved = str(Path(file).resolve())
            if _own_code(resolved, python):
                found.add(resolved)
    return sorted(found)


def _listed_dirs(code: list[str]) -> list[str]:
    """The folders those modules came from, and the folders on sys.path that are neither Python's nor site's."""
    python = _python_dirs()
    dirs = {str(Path(f).parent) for f in code}
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and _own_code(str(path) + os.sep, python):
            dirs.add(str(path))
    return sorted(dirs)


def _listing(folder: str) -> list[str]:
    try:
        return sorted(name for name in os.listdir(folder) if name != "__pycache__")
    except OSError:
        return []


def _data_files(root: Path) -> list[str]:
    """The project's files that are not Python (a model may read one), minus tool folders."""
    from dbops.pipeline.testselect import project_files

    return [str(root / rel) for rel in project_files(root) if not rel.endswith(".py")]


def _installed() -> dict[str, list[str]]:
    """What is installed where: each site folder's distribution records and .pth files, with their mtimes.

    A name carries the version (``SQLAlchemy-2.0.36.dist-info``); the mtime catches a reinstall of the
    same version; a .pth file may add folders to sys.path. Reading every distribution's metadata would
    cost a tenth of a second.
    """
    found: dict[str, list[str]] = {}
    for entry in dict.fromkeys(sys.path):
        if not entry or not any(part in _SITE for part in Path(entry).parts) or not os.path.isdir(entry):
            continue
        with os.scandir(entry) as listing:
            found[entry] = sorted(
                f"{e.name}:{e.stat().st_mtime_ns}" for e in listing if e.name.endswith(_INSTALL_RECORDS)
            )
    return found


def _state(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """The inputs as they are now, for the files and folders the record names."""
    return {
        "inputs": file_digests(settings, body["folders"], [*body["modules"], *body["data"]]),
        "listings": {folder: _listing(folder) for folder in body["dirs"]},
        "installed": _installed(),
    }


def lookup(settings: Settings, rules: Sequence[str] | None, revision: str | None, asked: str) -> CheckResult | None:
    """The remembered result of a passing run with exactly these inputs, or None (then run the rules)."""
    if settings.resolved_backend != "embedded":
        return None
    try:
        body: Any = json.loads(_path(settings, rules, revision).read_text())
        if not isinstance(body, dict) or body.get("version") != RECORD_VERSION:
            return None
        if body["ask"] != asked:
            return None
        if body["state"] != _state(settings, body):
            return None  # a file changed, appeared or went away; a distribution came, went or was reinstalled
        return CheckResult.from_dict(body["result"])
    except Exception:  # noqa: BLE001 - an unreadable or odd record only means the rules run
        return None


def remember(
    settings: Settings,
    rules: Sequence[str] | None,
    revision: str | None,
    asked: str,
    result: CheckResult,
    started: float,
) -> None:
    """After a run that passed every rule: write down its inputs (``asked`` and ``started`` taken before it)."""
    if not result.ok or settings.resolved_backend != "embedded":
        return  # a failing verdict is always worked out afresh: the next run may be after a fix
    try:
        code = _code_files(settings)
        body: dict[str, Any] = {
            "folders": migration_folders(settings),
            "modules": code,
            "data": _data_files(settings.root),
            "dirs": _listed_dirs(code),
        }
        body.update(version=RECORD_VERSION, ask=asked, state=_state(settings, body), result=result.to_dict())
        # Checked after hashing: a file saved while the rules ran, or since, is newer than the run's start.
        # Files get a margin for coarse file-system clocks; folders none, as the run's own first bytecode
        # (a new __pycache__) touches them: that run is then not remembered, and the next one is.
        files = [*body["modules"], *body["data"], *(str(p) for p in folder_files(body["folders"]))]
        if any(_mtime(f) >= started - _SETTLE_SECONDS for f in [*files, str(settings.alembic_ini)]):
            return
        if any(_mtime(d) >= started for d in [*body["dirs"], *body["folders"]]):
            return
        write_private(_path(settings, rules, revision), json.dumps(body))
    except Exception:  # noqa: BLE001 - not remembering only costs a full run next time
        pass


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


def forget(settings: Settings) -> None:
    """Drop every remembered verdict of this project and database."""
    for path in records(settings):
        path.unlink(missing_ok=True)
