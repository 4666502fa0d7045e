"""What a result depends on, named one way: the project's files, the history, the settings, the interpreter.

Known before the work (``code_key``, ``files_key``): the project's files as git sees them, the migration
folders, the settings and the variables they read, the project's interpreter and what it has installed,
dbops's own code. Known after it (``digest_loaded``): the files the project's interpreter loaded.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from dbops.core.config import Settings
from dbops.core.discover import OVERRIDES, SITE_FOLDERS, history_files, project_files, skipped_dir
from dbops.core.errors import DbopsError
from dbops.core.masking import mask_text
from dbops.migrations.scriptdir import open_scripts, version_folders
from dbops.project.python import interpreter

# Settings that never change a result: where records go, how long an idle server lives, the pipeline's own,
# which databases may be dropped (a pipeline run adds its own).
_IGNORED = {"root", "cache_dir", "idle_stop", "pipeline", "disposable"}
# Settings only a build from the models reads (and a create_all baseline's).
MODELS_ONLY = ("metadata", "models", "import_all")
# Variables the settings read besides DBOPS_* overrides, and those that decide what the interpreter imports.
_VARIABLES = ("DATABASE_URL", "DBOPS_BACKEND", "DBOPS_PG_VERSION", "DBOPS_DOCKER_IMAGE", "PYTHONPATH", "PYTHONHOME")
_INSTALL_RECORDS = (".dist-info", ".egg-info", ".egg-link", ".pth")
_PARSE = threading.Lock()  # ast.parse is not safe in two threads at once on Python 3.11
_TREES: dict[str, str] = {}  # content hash -> syntax-tree hash: each file version is parsed once


def file_digest(path: Path) -> str:
    """A file's content hash; a Python file's by its syntax tree (a comment or blank line changes nothing)."""
    data = path.read_bytes()
    raw = hashlib.sha256(data).hexdigest()
    if path.suffix != ".py":
        return raw
    with _PARSE:
        if raw not in _TREES:
            try:
                _TREES[raw] = hashlib.sha256(ast.dump(ast.parse(data)).encode()).hexdigest()
            except (SyntaxError, ValueError):
                _TREES[raw] = raw  # not Python after all: its bytes count
        return _TREES[raw]


def signature(path: Path) -> list[int]:
    """What says a file was not touched: size, mtime, ctime (which no one can set back) and inode."""
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def digest_loaded(files: Iterable[str], known: dict[str, list[object]] | None = None) -> dict[str, list[object]]:
    """Each loaded file's [signature, digest]; a file whose signature ``known`` holds is not read again."""
    out: dict[str, list[object]] = {}
    for name in sorted(set(files)):
        path = Path(name)
        try:
            sig = signature(path)
        except OSError:
            out[name] = [None, "missing"]
            continue
        before = (known or {}).get(name)
        out[name] = [sig, before[1]] if before and before[0] == sig else [sig, file_digest(path)]
    return out


def listed_files(settings: Settings) -> list[str]:
    """The project's files (relative, sorted) as git sees them (tracked and untracked, not ignored); else walked."""
    root = settings.root
    try:
        run = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        run = None
    if run is None or run.returncode != 0:
        found = project_files(root)  # not a git checkout (or no git): every file but the tool folders
    else:
        found = [f for f in run.stdout.decode(errors="surrogateescape").split("\0") if f]
    cache = os.path.relpath(settings.cache_dir, root) + os.sep
    return sorted(
        f
        for f in found
        if not f.endswith((".pyc", ".log"))
        and not f.startswith(cache)
        and not any(skipped_dir(part) for part in Path(f).parts[:-1])
    )


def migration_files(settings: Settings) -> list[Path]:
    """Every file of the script folder and the version folders (env.py, templates, revisions, a .sql they read)."""
    script = open_scripts(settings)
    return history_files([Path(script.dir), *version_folders(script)])


# A URL's database name: which database a command targets, never what a remembered result was built from
# (templates and scratch copies are dbops's own databases on that server); scheme, user, host and port count.
_DATABASE_NAME = re.compile(r"^([A-Za-z][\w+.-]*://[^/?#\s]*)/[^?#\s]*")


def _no_database(value: str) -> str:
    return _DATABASE_NAME.sub(r"\1/", mask_text(value))


def environment(settings: Settings, skip: Sequence[str] = ()) -> list[object]:
    """The settings and the variables they read (passwords masked, a URL's database name left out)."""
    fields = {
        f.name: _no_database(str(getattr(settings, f.name)))
        for f in dataclasses.fields(settings)
        if f.name not in _IGNORED and f.name not in skip
    }
    names = sorted({*_VARIABLES, *OVERRIDES.values(), *(e.partition("=")[0] for e in settings.url_env)})
    return [fields, [(n, _no_database(os.environ.get(n, ""))) for n in names]]


def _site_folders(python: Path) -> list[Path]:
    """The folders ``python`` installs distributions in, found without running it."""
    if os.path.abspath(python) == os.path.abspath(sys.executable) or python.parent.parent.absolute() == Path(
        sys.prefix
    ):
        return [Path(p) for p in dict.fromkeys(sys.path) if p and any(s in Path(p).parts for s in SITE_FOLDERS)]
    prefix = Path(python).parent.parent
    patterns = ("lib/python*/*-packages", "local/lib/python*/*-packages")
    return sorted({p for pattern in patterns for p in prefix.glob(pattern)})


def installs(python: Path) -> list[object]:
    """The interpreter and what it has installed: each distribution's record (its name carries the version)."""
    found: list[object] = [os.path.abspath(python)]  # a venv's, not the base interpreter its link leads to
    for site in _site_folders(python):
        try:
            names = sorted(n for n in os.listdir(site) if n.endswith(_INSTALL_RECORDS))
        except OSError:
            continue
        # A .pth file's lines add folders to sys.path (an editable install's): its content counts.
        pth = [hashlib.sha256((site / n).read_bytes()).hexdigest() for n in names if n.endswith(".pth")]
        found.append([str(site), names, pth])
    return found


def _own_code() -> list[object]:
    """dbops's own files, by signature: an upgraded or edited dbops may judge differently."""
    package = Path(__file__).resolve().parents[1]
    out: list[object] = []
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                info = os.stat(os.path.join(dirpath, name))
                out.append([os.path.join(dirpath, name), info.st_size, info.st_mtime_ns])
    return out


def _hash(parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _contents(root: Path, files: Iterable[str], code: bool = False) -> str:
    """One hash over the files' names and bytes (no single file's hash is kept: a data file may hold secrets).

    ``code``: Python files count by syntax tree, as what runs (a comment or blank line changes nothing).
    """
    digest = hashlib.sha256()
    for rel in files:
        digest.update(rel.encode() + b"\0")
        try:
            if code and rel.endswith(".py"):
                digest.update(file_digest(root / rel).encode())
            else:
                digest.update(hashlib.sha256((root / rel).read_bytes()).digest())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()


def code_key(settings: Settings, *extra: object, models: bool = True) -> str:
    """What work running the project's code depends on before it runs (what it loads is added after it).

    The project's Python files by name (a new one may shadow an import; their content counts once
    loaded), every other project file by content (data a seed reads), the migration folders' files byte
    for byte (the blocker scan reads comments), settings, variables, interpreter, installs, dbops's code.
    ``models=False``: a build from the history alone, which the models' settings do not reach.
    """
    root = settings.root
    files = listed_files(settings)
    try:
        history = [str(p) for p in migration_files(settings)]
    except DbopsError as exc:
        history = [f"unreadable: {exc.message}"]  # the work itself says why, and this key stays honest
    parts = [
        list(extra),
        environment(settings, () if models or settings.baseline == "create_all" else MODELS_ONLY),
        installs(interpreter(settings)),
        _own_code(),
        [f for f in files if f.endswith(".py")],
        _contents(root, [f for f in files if not f.endswith(".py")]),
        _contents(Path("/"), [h for h in history if not h.startswith("unreadable")]),
        history,
        _contents(root, [str(settings.alembic_ini)]),
    ]
    return _hash(parts)


def files_key(settings: Settings, patterns: Sequence[str], *extra: object, code: bool = False) -> str:
    """What a tool run over files depends on: the files under ``patterns`` byte for byte (``code``: Python files
    by syntax tree, for tests, which run code), the settings, our installs."""
    return _files_hash(settings.root, listed_files(settings), patterns, [*extra, environment(settings)], code)


def input_key(root: Path, patterns: Sequence[str], extra: Sequence[str] = ()) -> str:
    """The same for a folder without settings: the files under ``patterns``, our installs and ``extra``."""
    return _files_hash(root, project_files(root), patterns, list(extra))


def _files_hash(root: Path, files: list[str], patterns: Sequence[str], extra: list[object], code: bool = False) -> str:
    chosen = [f for f in files if any(_under(f, p) for p in patterns)]
    mine = installs(Path(sys.executable))  # the tools run in dbops's own interpreter
    return _hash([extra, mine, chosen, _contents(root, chosen, code)])


def _under(rel: str, pattern: str) -> bool:
    """``rel`` is the file ``pattern`` names or lies in the folder it names ("." is everything)."""
    pattern = pattern.rstrip("/")
    return pattern in (".", "") or rel == pattern or rel.startswith(pattern + "/")


def server(settings: Settings) -> str:
    """The PostgreSQL a check's answer depends on: the embedded binaries, the url server's version, the image.

    '' when it cannot be named (no binaries, no answer): the work runs and says why in its own words.
    """
    backend = settings.resolved_backend
    if backend == "embedded":
        from dbops.backends.pgbin import find_pgbin

        try:
            pg = find_pgbin(settings.pg_version)
        except DbopsError:
            return ""
        return f"embedded|{pg.bindir}|{pg.major}"
    if backend == "url" and settings.url:
        import psycopg

        from dbops.core.urls import libpq_url, parse_url, with_database

        try:
            with psycopg.connect(libpq_url(with_database(parse_url(settings.url), "postgres")), connect_timeout=3) as c:
                row = c.execute("SHOW server_version_num").fetchone()
        except (psycopg.Error, ValueError):
            return ""
        return f"url|{row[0] if row else ''}"
    return f"{backend}|{settings.docker_image}"
