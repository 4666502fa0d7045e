"""The project's revision scripts read with Alembic's ScriptDirectory: the folders, the files, the history's shape.

Reading only: no env.py runs here (that happens in the project's interpreter, :mod:`dbops.project`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from dbops.core.config import Settings
from dbops.core.errors import (
    ConfigError,
)
from dbops.core.private import write_private
from dbops.project.python import interpreter, resource_folder


def alembic_config(settings: Settings) -> Config:
    """An Alembic Config for reading the project's scripts (the ini file and section checked first)."""
    ini = settings.alembic_ini
    if not ini.is_file():
        raise ConfigError(
            f"alembic config {ini} does not exist", "set alembic_ini under [tool.dbops] or create the file"
        )
    cfg = Config(str(ini), ini_section=settings.alembic_name, stdout=io.StringIO())
    if settings.alembic_name != "alembic" and not cfg.file_config.has_section(settings.alembic_name):
        raise ConfigError(
            f"{ini} has no [{settings.alembic_name}] section", "pass the name of one of its sections (--name)"
        )
    location = cfg.get_main_option("script_location")
    if location and ":" in location and not os.path.isabs(location):
        # `package:path`: Alembic would import the package, which is installed for the project's interpreter,
        # not dbops's (and dbops never runs the project's code in its own process).
        folder = resource_folder(interpreter(settings), settings.root, location)
        cfg.set_section_option(settings.alembic_name, "script_location", str(folder).replace("%", "%%"))
    return cfg


def version_folders(script: ScriptDirectory) -> list[Path]:
    """The folders holding the revision files (Alembic keeps the list private)."""
    return [Path(folder) for folder in script._version_locations]


def revision_files(script: ScriptDirectory) -> list[Path]:
    """The .py files Alembic reads as revisions: in the version folders, below them only if it recurses."""
    pattern = "**/*.py" if getattr(script, "recursive_version_locations", False) else "*.py"
    return sorted(p for folder in version_folders(script) for p in folder.glob(pattern) if p.name != "__init__.py")


def open_scripts(settings: Settings) -> ScriptDirectory:
    """The project's ScriptDirectory without loading any script: its folders, read by dbops, never imported here."""
    try:
        return ScriptDirectory.from_config(alembic_config(settings))
    except CommandError as exc:
        raise ConfigError(f"cannot read the migration scripts: {exc}", "check script_location in alembic.ini") from None


# env.py may choose the version folders when it runs (``context.script.version_locations = [...]``). A run
# records its choice, keyed on env.py and the ini, so tasks that run nothing read the same folders.
def _learnt_path(settings: Settings) -> Path:
    # Projects may share a cache directory (DBOPS_CACHE_DIR): each project and ini section has its own record.
    tag = hashlib.sha256(f"{settings.root}|{settings.alembic_ini}|{settings.alembic_name}".encode()).hexdigest()[:12]
    return settings.cache_dir / "learnt" / f"version-folders-{tag}.json"


def _inputs(settings: Settings, script: ScriptDirectory) -> list[str]:
    env_py = Path(script.dir) / "env.py"
    texts = [p.read_text(errors="replace") if p.is_file() else "" for p in (settings.alembic_ini, env_py)]
    return [hashlib.sha256(text.encode()).hexdigest() for text in texts]


def learn_folders(settings: Settings, folders: list[str], recursive: bool) -> None:
    """Remember the version folders env.py chose (nothing to remember when they are the ini's)."""
    script = open_scripts(settings)
    path = _learnt_path(settings)
    if sorted(folders) == sorted(str(f) for f in script._version_locations):
        path.unlink(missing_ok=True)
        return
    body = {"inputs": _inputs(settings, script), "folders": folders, "recursive": recursive}
    try:
        write_private(path, json.dumps(body))
    except OSError:
        return  # not remembered: tasks that run nothing read the ini's folders, and say when they hold none


def project_revision_files(settings: Settings) -> list[Path]:
    """The revision files Alembic reads: in the folders env.py chose when it last ran, else the ini's."""
    script = open_scripts(settings)
    try:
        body = json.loads(_learnt_path(settings).read_text())
    except (OSError, ValueError):
        return revision_files(script)
    if not isinstance(body, dict) or body.get("inputs") != _inputs(settings, script):
        return revision_files(script)
    pattern = "**/*.py" if body.get("recursive") else "*.py"
    folders = [Path(f) for f in body.get("folders") or []]
    return sorted(p for folder in folders for p in folder.glob(pattern) if p.name != "__init__.py")
