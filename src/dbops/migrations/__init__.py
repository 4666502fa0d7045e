"""Migrations: the project's scripts read (scriptdir), run by its own Alembic in its own interpreter (migrator).

The names load on first use: reading the migration folders (scriptdir) needs neither the driver nor the runner.
The ``migrator`` function is imported from its module (``dbops.migrations.migrator``), whose name it shares.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbops.migrations.history_scan import check_history
    from dbops.migrations.migrator import EnvView, Migrator, current, downgrade, history, new_revision, upgrade
    from dbops.migrations.scriptdir import open_scripts, revision_files, version_folders

# fmt: off
__all__ = ["EnvView", "Migrator", "current", "downgrade", "history", "new_revision", "upgrade",  # noqa: RUF022 - by module: migrator
           "open_scripts", "revision_files", "version_folders", "check_history"]  # in scriptdir, history_scan
# fmt: on
_SCRIPTDIR = ("open_scripts", "revision_files", "version_folders")


def __getattr__(name: str) -> Any:
    """``dbops.migrations.upgrade`` and the like, imported from their module when first asked for."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = "scriptdir" if name in _SCRIPTDIR else "history_scan" if name == "check_history" else "migrator"
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
