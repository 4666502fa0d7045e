"""The project's migration folders, read from alembic.ini as Alembic reads them, without Alembic or the project's code.

``script_location`` and ``version_locations`` may be paths (``%(here)s`` is the ini's folder, a relative
one is relative to the project's root, where its code runs) or ``package:path``, found on the project's
own interpreter's import path without importing anything. Reading only: env.py runs in the project's
interpreter (:mod:`dbops.project`).
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib.machinery import PathFinder
from pathlib import Path

from dbops.core.config import Settings
from dbops.core.errors import ConfigError
from dbops.core.private import write_private


@dataclass(frozen=True)
class Scripts:
    """Where a project's migrations are: the script folder (env.py), the version folders, whether Alembic recurses."""

    dir: str
    version_locations: tuple[str, ...]
    recursive_version_locations: bool = False


def _ini(settings: Settings) -> configparser.SectionProxy:
    ini = settings.alembic_ini
    if not ini.is_file():
        raise ConfigError(
            f"alembic config {ini} does not exist", "set alembic_ini under [tool.dbops] or create the file"
        )
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent.resolve()), "__file__": str(ini.resolve())})
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"{ini} is not a valid ini file: {exc}", "fix its syntax") from None
    if not parser.has_section(settings.alembic_name):
        if settings.alembic_name != "alembic":
            raise ConfigError(
                f"{ini} has no [{settings.alembic_name}] section", "pass the name of one of its sections (--name)"
            )
        raise ConfigError(f"{ini} has no [alembic] section", "add one with script_location = ...")
    return parser[settings.alembic_name]


def _split(value: str, section: configparser.SectionProxy) -> list[str]:
    """A list option as Alembic splits it: path_separator / version_path_separator, else spaces and commas."""
    sep = section.get("path_separator") or section.get("version_path_separator")
    named = {"os": os.pathsep, "space": " ", "newline": "\n", ":": ":", ";": ";"}
    if sep in named:
        parts = value.split(named[sep]) if named[sep] != " " else value.split()
    else:
        parts = re.split(r"[\s,]+", value)
    return [p.strip() for p in parts if p.strip()]


def _locate(location: str, settings: Settings) -> Path:
    """A location as a folder: ``package:path`` found on the project's import path, else relative to the root."""
    if ":" in location and not os.path.isabs(location) and not re.match(r"^[A-Za-z]:[\\/]", location):
        package, _, sub = location.partition(":")
        return _package_folder(package, settings) / sub.replace(":", os.sep)
    path = Path(location)
    return path if path.is_absolute() else settings.root / path


def _package_folder(package: str, settings: Settings) -> Path:
    """Where ``package`` lives for the project's interpreter (its import path), found without importing it."""
    from dbops.project.python import installed, interpreter

    python = interpreter(settings)
    search = [str(settings.root), *installed(python).get("sys_path", [])]
    top, *rest = package.split(".")
    spec = PathFinder.find_spec(top, search)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"script_location names package {package!r}, which the project's interpreter {python} cannot find",
            "install the package there, or name the interpreter that has it (python = ...)",
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder.joinpath(*rest)


def open_scripts(settings: Settings) -> Scripts:
    """The project's migration folders as its alembic.ini names them (nothing imported)."""
    section = _ini(settings)
    location = section.get("script_location")
    if not location:
        raise ConfigError(
            f"{settings.alembic_ini.name} has no script_location in [{settings.alembic_name}]",
            "add script_location = the folder of env.py",
        )
    folder = _locate(location, settings)
    if not folder.is_dir():
        raise ConfigError(
            f"cannot read the migration scripts: script_location {location!r} is no folder ({folder})",
            "check script_location in alembic.ini",
        )
    versions = section.get("version_locations")
    folders = [_locate(v, settings) for v in _split(versions, section)] if versions else [folder / "versions"]
    recursive = section.getboolean("recursive_version_locations", fallback=False)
    return Scripts(str(folder), tuple(str(f) for f in folders), recursive)


def version_folders(script: Scripts) -> list[Path]:
    """The folders holding the revision files."""
    return [Path(folder) for folder in script.version_locations]


def revision_files(script: Scripts) -> list[Path]:
    """The .py files Alembic reads as revisions: in the version folders, below them only if it recurses."""
    pattern = "**/*.py" if script.recursive_version_locations else "*.py"
    return sorted(p for folder in version_folders(script) for p in folder.glob(pattern) if p.name != "__init__.py")


# env.py may choose the version folders when it runs (``context.script.version_locations = [...]``). A run
# records its choice, keyed on env.py and the ini, so tasks that run nothing read the same folders.
def _learnt_path(settings: Settings) -> Path:
    # Projects may share a cache directory (DBOPS_CACHE_DIR): each project and ini section has its own record.
    tag = hashlib.sha256(f"{settings.root}|{settings.alembic_ini}|{settings.alembic_name}".encode()).hexdigest()[:12]
    return settings.cache_dir / "learnt" / f"version-folders-{tag}.json"


def _inputs(settings: Settings, script: Scripts) -> list[str]:
    env_py = Path(script.dir) / "env.py"
    texts = [p.read_text(errors="replace") if p.is_file() else "" for p in (settings.alembic_ini, env_py)]
    return [hashlib.sha256(text.encode()).hexdigest() for text in texts]


def learn_folders(settings: Settings, folders: list[str], recursive: bool) -> None:
    """Remember the version folders env.py chose (nothing to remember when they are the ini's)."""
    script = open_scripts(settings)
    path = _learnt_path(settings)
    if sorted(folders) == sorted(script.version_locations):
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
