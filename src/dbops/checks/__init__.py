"""The consistency engine: rules C1-C6 (and the blocker scan) comparing models, migrations and a database.

Each rule is a module in this package (or a plug-in under the ``dbops.checks`` entry point group)
with ``RULES`` and ``check(ctx)``; see :mod:`dbops.checks.engine` for the registry.
"""

from __future__ import annotations

from dbops.checks.context import CheckContext
from dbops.checks.engine import (
    BUILTIN,
    Rule,
    available_rules,
    run_checks,
    select_rules,
    status_metrics,
)
from dbops.core.findings import STATUS_LABELS, status_block

__all__ = [
    "BUILTIN",
    "STATUS_LABELS",
    "CheckContext",
    "Rule",
    "available_rules",
    "run_checks",
    "select_rules",
    "status_block",
    "status_metrics",
]
