"""A template's identity, without importing the project here: what it is built from, learnt from the build.

A template (a database the migration history or the models built) depends on the files in the
migration folders, on every project file the project's interpreter loaded while building it (env.py,
the models, revision helpers, the seed, hooks: the agent reports them), on which Python files exist
(a new one may shadow an import), on the project's Python, SQLAlchemy, Alembic and drivers, and on
the settings that reach the build. The loaded files are only known after a build, so each template
keeps a record of them; the next lookup hashes the same files again. A build whose agent could not
say what it loaded is not recorded (the next run builds again): never a stale template.
"""

from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path
from typing import Any

from dbops.core.config import Settings
from dbops.core.discover import history_files, project_files
from dbops.core.private import write_private
from dbops.migrations import open_scripts, version_folders
from dbops.project.python import installed, interpreter

RECORD_VERSION = 1
# The settings that reach a build (the URL handed over, the driver, what the models are, the hooks).
_SETTINGS = (
    "alembic_ini",
    "alembic_name",
    "url_env",
    "driver",
    "python",
    "metadata",
    "models",
    "import_all",
    "before_migrate",
    "seed",
    "version_table",
    "version_table_schema",
    "baseline",
    "baseline_revision",
    "tenant_schema",
)

# Settings only the models' build reads (and a create_all baseline's).
_MODELS_ONLY = ("metadata", "models", "import_all")


def _file_digest(path: Path) -> str:
    """A file's content hash; a Python file's by its syntax tree (a comment or blank line cannot change a build)."""
    try:
        data = path.read_bytes()
    except OSError:
        return "missing"
    if path.suffix == ".py":
        try:
            return hashlib.sha256(ast.dump(ast.parse(data)).encode()).hexdigest()
        except (SyntaxError, ValueError):
            pass  # not Python after all: its bytes count
    return hashlib.sha256(data).hexdigest()


def migration_files(settings: Settings) -> list[Path]:
    """Every file of the script folder and the version folders (env.py, templates, revisions, a .sql they read)."""
    script = open_scripts(settings)
    return history_files([Path(script.dir), *version_folders(script)])


def static_key(settings: Settings, kind: str, extra: str) -> str:
    """What a template of ``kind`` depends on that is known before it is built."""
    python = interpreter(settings)
    fields = {name: str(getattr(settings, name)) for name in _SETTINGS}
    if kind == "history" and settings.baseline != "create_all":
        for name in _MODELS_ONLY:  # the history builds without them (what env.py imports is learnt from the build)
            del fields[name]
    files = migration_files(settings) if kind == "history" else []
    if kind == "history" and settings.baseline and settings.baseline != "create_all":
        files.append(settings.root / settings.baseline)  # the dump the history starts from
    raw = json.dumps(
        [
            RECORD_VERSION,
            kind,
            extra,
            fields,
            str(python),
            _libraries(installed(python)),
            [(str(p), _file_digest(p)) for p in files],
            [f for f in project_files(settings.root) if f.endswith(".py")],
        ],
        sort_keys=True,
    )
    return hashlib.sha256(raw.encode()).hexdigest()


def _libraries(found: dict[str, Any]) -> dict[str, Any]:
    """The interpreter's versions and drivers: not its import path, which differs between a command and a
    test session in one environment (pytest prepends the tests' folders) and would rebuild a template in use."""
    return {k: v for k, v in found.items() if k != "sys_path"}


def loaded_key(files: list[str]) -> str:
    """The loaded files' contents, by path."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{_file_digest(Path(name))}\0".encode())
    return digest.hexdigest()


def _record(settings: Settings, family: str) -> Path:
    return settings.cache_dir / "templates" / f"{family}.json"


def lookup(settings: Settings, family: str, static: str) -> str | None:
    """The name of the template this family's record names, if everything it was built from is unchanged."""
    try:
        body: Any = json.loads(_record(settings, family).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # an unreadable record is a miss: the template is built again and recorded afresh
    if not isinstance(body, dict) or body.get("static") != static or not isinstance(body.get("loaded"), list):
        return None
    if body.get("loaded_key") != loaded_key(body["loaded"]):
        return None
    name = body.get("name")
    return name if isinstance(name, str) else None


def recorded_files(settings: Settings, family: str) -> list[str] | None:
    """The project files the family's current template was built from (None without a record)."""
    try:
        body: Any = json.loads(_record(settings, family).read_text())
    except (OSError, ValueError):
        return None
    loaded = body.get("loaded") if isinstance(body, dict) else None
    return [str(f) for f in loaded] if isinstance(loaded, list) else None


def remember(settings: Settings, family: str, static: str, loaded: set[str] | None, name: str) -> None:
    """Record what the template ``name`` was built from; nothing when the build could not say what it loaded."""
    path = _record(settings, family)
    if loaded is None:
        path.unlink(missing_ok=True)
        return
    files = sorted(loaded)
    body = {"static": static, "loaded": files, "loaded_key": loaded_key(files), "name": name}
    write_private(path, json.dumps(body))


def name_for(prefix: str, static: str, loaded: set[str] | None) -> str:
    """A template's name: ``prefix`` and a hash of everything it was built from."""
    digest = hashlib.sha256(f"{static}|{loaded_key(sorted(loaded or ()))}".encode()).hexdigest()[:12]
    return f"{prefix}_{digest}"[:63]
