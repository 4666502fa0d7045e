"""Migrations: the project's scripts read (scriptdir), run by its own Alembic in its own interpreter (migrator).

The names load on first use: reading the migration folders (scriptdir) needs neither the driver nor the runner.
The ``migrator`` function is imported from its module (``dbops.migrations.migrator``), whose name it shares.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbops.migrations.history_scan import check_history
    from dbops.migrations.migrator import (
        EnvView,
        Migrator,
        current,
        downgrade,
        history,
        new_revision,
        upgrade,
    )
    from dbops.migrations.scriptdir import open_scripts, revision_files, version_folders

_WHERE = {
    "check_history": "history_scan",
    **dict.fromkeys(("EnvView", "Migrator", "current", "downgrade", "history", "new_revision", "upgrade"), "migrator"),
    **dict.fromkeys(("open_scripts", "revision_files", "version_folders"), "scriptdir"),
}

__all__ = [
    "EnvView",
    "Migrator",
    "check_history",
    "current",
    "downgrade",
    "history",
    "new_revision",
    "open_scripts",
    "revision_files",
    "upgrade",
    "version_folders",
]


def __getattr__(name: str) -> Any:
    """``dbops.migrations.upgrade`` and the like, imported from their module when first asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
