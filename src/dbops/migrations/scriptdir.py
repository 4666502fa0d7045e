"""The project's revision scripts read with Alembic's ScriptDirectory: the folders, the files, the history's shape.

Reading only: no env.py runs here (that happens in the project's interpreter, :mod:`dbops.project`).
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from dbops.core.config import Settings
from dbops.core.errors import (
    ConfigError,
    HistoryBroken,
    MigrationError,
    ProjectCodeError,
    command_hint,
    project_code,
)
from dbops.core.urls import mask_text


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


def _where(exc: BaseException, root: Path) -> str:
    """file:line of the deepest traceback frame inside the project, for error messages."""
    where = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(root):
            where = f"{path.relative_to(root)}:{lineno}"
    return where


@contextlib.contextmanager
def reading_errors(settings: Settings, what: str) -> Iterator[None]:
    """What Alembic or a revision file raises while the scripts are read, as one DbopsError line."""
    try:
        with warnings.catch_warnings(), project_code(what, settings.root):
            # Alembic only warns about a duplicate revision id; the history scan makes it a finding.
            warnings.filterwarnings("ignore", message="Revision .* is present more than once")
            yield
    except ProjectCodeError as wrapped:
        exc = wrapped.original
        if isinstance(exc, CommandError):
            hint = f"see `{command_hint('migrate.history')}`"
            raise MigrationError(f"{what} failed: {mask_text(str(exc))}", hint) from None
        if isinstance(exc, SyntaxError):
            where = f"{Path(exc.filename or '?').name}:{exc.lineno}"
            raise MigrationError(f"{where} has a syntax error: {exc.msg}", "fix the file") from None
        where = _where(exc, settings.root)
        raise ConfigError(
            f"{what} failed: {type(exc).__name__}: {mask_text(str(exc))}" + (f" (at {where})" if where else ""),
            f"fix the code named above (`{command_hint('--debug ...')}` shows the traceback)",
        ) from exc


def version_folders(script: ScriptDirectory) -> list[Path]:
    """The folders holding the revision files (Alembic keeps the list private)."""
    return [Path(folder) for folder in script._version_locations]


def revision_files(script: ScriptDirectory) -> list[Path]:
    """The .py files Alembic reads as revisions: in the version folders, below them only if it recurses."""
    pattern = "**/*.py" if getattr(script, "recursive_version_locations", False) else "*.py"
    return sorted(p for folder in version_folders(script) for p in folder.glob(pattern) if p.name != "__init__.py")


def check_history(settings: Settings, script: ScriptDirectory) -> None:
    """Raise HistoryBroken with one finding per problem before Alembic reads the files and raises its own sentence."""
    from dbops.migrations.history_scan import scan_history

    found = scan_history(revision_files(script), settings.root)
    if found:
        raise HistoryBroken(found)


def script_directory(settings: Settings) -> ScriptDirectory:
    """The project's revision scripts, checked for a broken history first; errors are findings, one line each."""
    with reading_errors(settings, "reading the migration scripts"):
        script = ScriptDirectory.from_config(alembic_config(settings))
        check_history(settings, script)
        script.revision_map.heads  # noqa: B018 - forces every version file to load, so errors surface here
        return script


def open_scripts(settings: Settings) -> ScriptDirectory:
    """The project's ScriptDirectory without loading any script (a file that does not parse is a finding here)."""
    try:
        return ScriptDirectory.from_config(alembic_config(settings))
    except CommandError as exc:
        raise ConfigError(f"cannot read the migration scripts: {exc}", "check script_location in alembic.ini") from None
