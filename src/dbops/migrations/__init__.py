"""Migrations: the project's scripts read (scriptdir), run by its own Alembic in its own interpreter (migrator)."""

from dbops.migrations.history_scan import check_history
from dbops.migrations.migrator import (
    EnvView,
    Migrator,
    current,
    downgrade,
    history,
    migrator,
    new_revision,
    upgrade,
)
from dbops.migrations.scriptdir import (
    open_scripts,
    revision_files,
    version_folders,
)

__all__ = [
    "EnvView",
    "Migrator",
    "check_history",
    "current",
    "downgrade",
    "history",
    "migrator",
    "new_revision",
    "open_scripts",
    "revision_files",
    "upgrade",
    "version_folders",
]
