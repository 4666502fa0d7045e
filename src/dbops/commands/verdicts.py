"""Consistency verdicts remembered by their inputs: the same code, files and environment give the same answer.

The default consistency check compares the models with a database that the migration history alone
built, so its verdict depends on what the process ran and read, not on any data. After a run that
passed, its inputs are written down with the result:

- every file of the project (code, data, a script env.py runs with exec; which files there are and
  what they hold), of the migration folders, alembic.ini, and every loaded module that is neither
  Python's nor an installed distribution's, wherever it lives (dbops, a sibling package installed
  in editable mode), in one digest: no single file's hash is kept;
- the listing of each folder those modules came from and of each folder on ``sys.path`` that is not
  Python's or site-packages' (a new file may shadow a module or be discovered by a package);
- the site folders' distribution records and .pth files, the interpreter, ``sys.path``, the
  environment (URL passwords masked; a shell's own bookkeeping left out), the settings, the
  PostgreSQL server (the embedded backend's binaries, or the url server's version), and the rules
  and revision asked.

A later run whose inputs all match prints that result without importing SQLAlchemy (on the embedded
backend without reaching a server; on the url backend after one psycopg connection asks the server's
version). Docker's server is only known once its container runs: its verdicts are not remembered.
A failing run deletes the record; a run during which an input changed is not remembered; a check of
the project's own database (``--live``) never touches a record; ``--no-cache`` runs every rule and
writes the record afresh when they pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbops.commands.fastreset import folder_files, migration_folders
from dbops.core.config import Settings
from dbops.core.discover import SITE_FOLDERS, installed_code, project_files
from dbops.core.errors import DbopsError
from dbops.core.findings import CheckResult
from dbops.core.masking import mask_text
from dbops.core.private import write_private
from dbops.project.python import interpreter

RECORD_VERSION = 2
NOTE = "remembered: nothing it depends on changed since this verdict (--no-cache runs every rule again)"
# A shell's bookkeeping, different at every prompt; no model can depend on it.
_VOLATILE_ENV = frozenset(
    {"_", "OLDPWD", "SHLVL", "PS1", "PS2", "PROMPT_COMMAND", "COLUMNS", "LINES", "HISTFILE", "WINDOWID"}
    | {"TERM_SESSION_ID", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_CLIENT", "SSH_CONNECTION", "SSH_TTY"}
)
_INSTALL_RECORDS = (".dist-info", ".egg-info", ".egg-link", ".pth")
# Inputs modified this close to the run's start may have changed while it ran: the verdict is not kept.
_SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class Asked:
    """What a run is asked, taken before it runs: the hashed question, the start, the sys.path folders' listings."""

    key: str
    started: float
    path_listings: dict[str, list[str]]


def question(settings: Settings, rules: Sequence[str] | None, revision: str | None) -> Asked | None:
    """What is asked, in which environment (URL passwords masked before hashing); None when nothing may be remembered.

    Taken before the run: a run may add to ``sys.path`` (Alembic's ``prepend_sys_path``), and a file may
    appear in a folder on it while the rules run.
    """
    server = _server(settings)
    if not server:
        return None  # a server that cannot be named without starting it: the run decides, and is not remembered
    started = time.time()
    fields = {k: mask_text(str(v)) for k, v in vars(settings).items()}
    env = sorted((k, mask_text(v)) for k, v in os.environ.items() if k not in _VOLATILE_ENV)
    chosen = sorted(rules) if rules is not None else None
    python = interpreter(settings)  # the project's: its own packages shape the models and the history too
    asked = [fields, env, sys.executable, sys.version, sys.path, server, chosen, revision, str(python)]
    asked.append(_interpreter_installs(python))
    key = hashlib.sha256(json.dumps(asked, default=str).encode()).hexdigest()
    return Asked(key, started, {folder: _listing(folder) for folder in _path_dirs()})


def _interpreter_installs(python: Path) -> list[str]:
    """The distribution records of another interpreter's venv (this one's are hashed with the state)."""
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return []
    found = []
    for site in sorted(Path(python).parent.parent.glob("lib/python*/site-packages")):
        with os.scandir(site) as listing:
            found += sorted(
                f"{site}/{e.name}:{e.stat().st_mtime_ns}" for e in listing if e.name.endswith(_INSTALL_RECORDS)
            )
    return found


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


def _server(settings: Settings) -> str:
    """The PostgreSQL that builds the template: the embedded backend's binaries, or the url server's version.

    '' when it cannot be named (no binaries, a malformed URL, no answer): then nothing is remembered, and the
    run says why in its own words.
    """
    backend = settings.resolved_backend
    if backend == "embedded":
        from dbops.backends.pgbin import find_pgbin

        try:
            pg = find_pgbin(settings.pg_version)
        except DbopsError:
            return ""
        return f"embedded|{pg.bindir}|{pg.major}|{pg.source}"
    if backend == "url" and settings.url:
        import psycopg  # only here: the embedded path stays free of the driver

        # libpq reads postgresql:// only; the maintenance database, as the backend connects to.
        conninfo = re.sub(r"^postgres(?:ql)?\+[a-z0-9]+://", "postgresql://", settings.url, flags=re.I)
        try:
            with psycopg.connect(conninfo, dbname="postgres", connect_timeout=3) as conn:
                row = conn.execute("SHOW server_version_num").fetchone()
        except psycopg.Error:
            return ""
        return f"url|{row[0] if row else ''}"
    return ""  # docker: the container's server is only known once it runs


def _code_files(settings: Settings) -> list[str] | None:
    """Every loaded module file outside Python and site-packages (here and in the project's interpreter), and the
    models' and seed's packages wherever; None when the project's interpreter could not say what it loaded."""
    from dbops.project.runner import loaded_by_project

    by_project = loaded_by_project()
    if by_project is None:
        return None
    packages = {spec.partition(":")[0].split(".")[0] for spec in (settings.metadata, settings.seed or "") if spec}
    found = set()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str):
            continue
        ours = name.split(".")[0] in packages
        # Cheap string test first: most loaded modules are Python's or an installed distribution's.
        if ours or not installed_code(file):
            resolved = os.path.realpath(file)
            if (ours or not installed_code(resolved)) and os.path.isfile(resolved):
                found.add(resolved)
    return sorted(found | by_project)


def _path_dirs() -> list[str]:
    """The folders on sys.path that are neither Python's nor site-packages'."""
    dirs = set()
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path.is_dir() and not installed_code(str(path) + os.sep):
            dirs.add(str(path))
    return sorted(dirs)


def _listing(folder: str) -> list[str]:
    """The names in a folder that an import could find (a module, a package, a .pth); not .git or README.md."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names if n.partition(".")[0].isidentifier() and n != "__pycache__")


def _project_files(settings: Settings) -> list[str]:
    """Every file of the project (code, data, a script run with exec), minus tool folders and dbops's cache."""
    root, cache = settings.root.resolve(), settings.cache_dir.resolve()
    files = (root / rel for rel in project_files(root))
    return [str(f) for f in files if not f.is_relative_to(cache)]


def _digest(files: list[str]) -> str:
    """One hash over the files' paths and contents: no single file's hash is kept (a .env holds secrets)."""
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0")
        try:
            digest.update(Path(name).read_bytes())
        except OSError:
            digest.update(b"\0missing")
    return digest.hexdigest()


def _installed() -> dict[str, list[str]]:
    """What is installed where: each site folder's distribution records and .pth files, with their mtimes.

    A name carries the version (``SQLAlchemy-2.0.36.dist-info``); the mtime catches a reinstall of the
    same version; a .pth file may add folders to sys.path. Reading every distribution's metadata would
    cost a tenth of a second.
    """
    found: dict[str, list[str]] = {}
    for entry in dict.fromkeys(sys.path):
        if not entry or not any(part in SITE_FOLDERS for part in Path(entry).parts) or not os.path.isdir(entry):
            continue
        with os.scandir(entry) as listing:
            found[entry] = sorted(
                f"{e.name}:{e.stat().st_mtime_ns}" for e in listing if e.name.endswith(_INSTALL_RECORDS)
            )
    return found


def _inputs(settings: Settings, body: dict[str, Any]) -> list[str]:
    """The files a verdict depends on: the project's, the history's, alembic.ini, and code loaded from outside."""
    project = _project_files(settings)
    scripts = [str(p) for p in folder_files(body["folders"])]
    return sorted({*project, *scripts, *body["modules"], str(settings.alembic_ini)})


def _state(settings: Settings, body: dict[str, Any]) -> dict[str, Any]:
    """The inputs as they are now: which files there are, what they hold, the folders' listings, the installs."""
    files = _inputs(settings, body)
    return {
        "files": files,
        "digest": _digest(files),
        "listings": {folder: _listing(folder) for folder in body["dirs"]},
        "installed": _installed(),
    }


def lookup(settings: Settings, rules: Sequence[str] | None, revision: str | None, asked: Asked) -> CheckResult | None:
    """The remembered result of a passing run with exactly these inputs, or None (then run the rules)."""
    record = _path(settings, rules, revision)
    try:
        body: Any = json.loads(record.read_text())
        if not isinstance(body, dict) or body.get("version") != RECORD_VERSION:
            return None
        if body["ask"] != asked.key:
            return None
        if body["state"] != _state(settings, body):
            return None  # a file changed, appeared or went away; a distribution came, went or was reinstalled
        return CheckResult.from_dict(body["result"])
    except FileNotFoundError:
        return None  # nothing remembered yet
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _warn(f"the remembered verdict {record} could not be read ({type(exc).__name__}: {exc}); every rule runs")
        return None


def remember(
    settings: Settings, rules: Sequence[str] | None, revision: str | None, asked: Asked, result: CheckResult
) -> None:
    """After a run that passed every rule: write down its inputs, unless one may have changed while it ran."""
    record = _path(settings, rules, revision)
    if not result.ok:
        record.unlink(missing_ok=True)  # a failing verdict is worked out afresh each time, after a fix too
        return
    try:
        code = _code_files(settings)
        if code is None:  # what the project's code read is unknown: nothing may be remembered
            record.unlink(missing_ok=True)
            return
        body: dict[str, Any] = {
            "folders": migration_folders(settings),
            "modules": code,
            "dirs": sorted({*asked.path_listings, *(str(Path(f).parent) for f in code)}),
        }
        body.update(version=RECORD_VERSION, ask=asked.key, state=_state(settings, body), result=result.to_dict())
        if _changed_during(body, asked):
            record.unlink(missing_ok=True)
            return
        write_private(record, json.dumps(body))
    except OSError as exc:
        _warn(f"the verdict could not be remembered in {record} ({exc}); the next run checks every rule again")


def _warn(message: str) -> None:
    """A cache that cannot read or write says so, on one line; the work is done anyway."""
    print(f"warning: {message}", file=sys.stderr)


def _changed_during(body: dict[str, Any], asked: Asked) -> bool:
    """Whether an input may have changed between the run's start and the hashing just done.

    Files are judged by their change time (``cp -p`` or ``rsync -a`` can set an old mtime, not an old
    ctime) and their mtime with a margin for coarse file-system clocks; the folders on sys.path by
    their listings before and after; the other module folders by their times, which the run's own
    first bytecode (a new __pycache__) also moves: that run is not remembered, and the next one is.
    """
    if any(_touched(f, asked.started) for f in body["state"]["files"]):
        return True
    listings = body["state"]["listings"]
    if any(listings.get(folder, before) != before for folder, before in asked.path_listings.items()):
        return True
    package_dirs = [d for d in body["dirs"] if d not in asked.path_listings]
    return any(_touched(d, asked.started, margin=0.0) for d in [*package_dirs, *body["folders"]])


def _touched(path: str, started: float, margin: float = _SETTLE_SECONDS) -> bool:
    """Changed since ``started``: its ctime after it, or its mtime within ``margin`` of it (coarse clocks)."""
    try:
        info = os.stat(path)
    except OSError:
        return False  # gone: the listing and the digest tell
    return info.st_ctime >= started or info.st_mtime >= started - margin


def forget(settings: Settings) -> None:
    """Drop every remembered verdict of this project and database."""
    for path in records(settings):
        path.unlink(missing_ok=True)
