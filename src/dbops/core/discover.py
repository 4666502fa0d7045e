"""Finding a project's parts without importing it: its root, its settings' guesses, its files.

Settings for a project without ``[tool.dbops]``: command-line overrides, alembic.ini, then a guess.
The guess reads env.py without running it: ``target_metadata = X`` (or ``X.metadata``) and the import
that binds ``X`` give ``module:X`` (or ``module:X.metadata``). The project's files are every file
under its root but tool folders (``project_files``), and the history's every file under the
migration folders (``history_files``).
"""

from __future__ import annotations

import ast
import configparser
import functools
import os
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from dbops.core.errors import ConfigError

# Command-line flags of the dbops command travel to the settings as these variables.
OVERRIDES = {
    "alembic_ini": "DBOPS_ALEMBIC_INI",
    "alembic_name": "DBOPS_ALEMBIC_NAME",
    "metadata": "DBOPS_METADATA",
    "schemas": "DBOPS_SCHEMAS",
    "python": "DBOPS_PYTHON",
}


def project_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` with a pyproject.toml or an alembic.ini; else ``start``."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() or (folder / "alembic.ini").is_file():
            return folder
    return here


def script_location(ini: Path, section: str) -> Path | None:
    """The script_location of ``section`` in an alembic.ini (``%(here)s`` resolved), or None."""
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent.resolve())})
    try:
        parser.read(ini, encoding="utf-8")
        location = parser.get(section, "script_location")
    except (configparser.Error, OSError):
        return None
    path = Path(location)
    # Alembic resolves a relative script_location against the working directory, i.e. the project root.
    return path if path.is_absolute() else ini.parent / path


def has_section(ini: Path, section: str) -> bool:
    """True if the alembic.ini has a ``[section]``."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except (configparser.Error, OSError):
        return False
    return parser.has_section(section)


def guess_metadata(env_py: Path) -> str | None:
    """``module:attr`` of the MetaData env.py names as target_metadata, read without running env.py."""
    try:
        tree = ast.parse(env_py.read_text(encoding="utf-8"), str(env_py))
    except (OSError, SyntaxError, ValueError):
        return None
    imported: dict[str, str] = {}
    target: ast.expr | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{node.module}:{alias.name}"
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "target_metadata" for t in node.targets
        ):
            target = node.value
    if isinstance(target, ast.Name) and target.id in imported:
        return imported[target.id]
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id in imported:
        return f"{imported[target.value.id]}.{target.attr}"
    return None


def metadata_for(root: Path, ini: Path, section: str) -> str:
    """The guessed metadata path, or a ConfigError saying how to name it."""
    if not ini.is_file():
        raise ConfigError(
            f"no alembic.ini at {ini} and no [tool.dbops] in a pyproject.toml",
            "run from the project's folder, or pass --alembic-ini path/to/alembic.ini --metadata pkg.models:metadata",
        )
    if ini.is_file() and section != "alembic" and not has_section(ini, section):
        raise ConfigError(f"{ini} has no [{section}] section", "pass the name of one of its sections (--name)")
    location = script_location(ini, section) if ini.is_file() else None
    guess = guess_metadata(location / "env.py") if location is not None else None
    if guess is None:
        raise ConfigError(
            f"cannot tell which MetaData to compare: no [tool.dbops] metadata and env.py's target_metadata "
            f"is not a plain import ({ini})",
            'pass --metadata pkg.models:Base.metadata or add metadata = "..." under [tool.dbops]',
        )
    return guess


# Folders installers put distributions in: code a version number stands for.
SITE_FOLDERS = ("site-packages", "dist-packages")


@functools.cache
def _python_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(str(Path(paths[k]).resolve()) + os.sep for k in ("stdlib", "platstdlib") if k in paths)


def installed_code(path: str) -> bool:
    """Python's own code or an installed distribution's (a folder's path ends with a separator)."""
    return path.startswith(_python_dirs()) or any(f"{os.sep}{part}{os.sep}" in path for part in SITE_FOLDERS)


def history_files(folders: list[Path]) -> list[Path]:
    """Every file under the migration folders, bytecode aside: a revision may read a .sql or .json beside it."""
    found = {p for folder in folders for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    return sorted(p for p in found if p.suffix != ".pyc")


# Folders that hold tools, caches and build output, never the project's sources.
SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", ".nox", ".tox", ".dbops", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
    | {".hypothesis", "node_modules", "reports", "build", "dist", "htmlcov", ".direnv", ".idea"}
)


def skipped_dir(name: str) -> bool:
    """A folder of tools, caches or build output (never the project's sources)."""
    return name in SKIP_DIRS or name.endswith(".egg-info")


def project_files(root: Path) -> list[str]:
    """Every file under ``root`` (relative, sorted), minus tool folders and compiled or log files."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # A virtualenv by any name (env/, .direnv/python-3.12/) holds its pyvenv.cfg: installed code, not the project's.
        dirnames[:] = [
            d for d in dirnames if not skipped_dir(d) and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        ]
        rel = Path(dirpath).relative_to(root)
        found += [str(rel / f) for f in filenames if not f.endswith((".pyc", ".log"))]
    return sorted(found)


def is_tracked(root: Path, path: str) -> str | None:
    """The path relative to ``root`` if it is one of the project's own files, else None."""
    try:
        rel = Path(path).resolve().relative_to(root)
    except ValueError:
        return None
    return None if any(skipped_dir(part) for part in rel.parts[:-1]) else str(rel)


def under(rel: str, prefixes: Sequence[str]) -> bool:
    """Whether ``rel`` is one of ``prefixes`` or inside one of them ("." holds everything)."""
    return any(p == "." or rel == p or rel.startswith(p.rstrip("/") + "/") for p in prefixes)
