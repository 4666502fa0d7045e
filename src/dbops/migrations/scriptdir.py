"""The project's revision scripts read with Alembic's ScriptDirectory: the folders, the files, the history's shape.

Reading only: no env.py runs here (that happens in the project's interpreter, :mod:`dbops.project`).
"""

from __future__ import annotations

import io
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from dbops.core.config import Settings
from dbops.core.errors import (
    ConfigError,
)


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
