"""The database lifecycle: pick the server, reset a database (template clone or naive), migrate, seed."""

from dbops.lifecycle.ops import (
    ResetResult,
    Target,
    confirm_drop,
    database_at,
    empty_database,
    ensure_database,
    models_database,
    reset,
    seed,
    seed_failure,
    target,
)

__all__ = [
    "ResetResult",
    "Target",
    "confirm_drop",
    "database_at",
    "empty_database",
    "ensure_database",
    "models_database",
    "reset",
    "seed",
    "seed_failure",
    "target",
]
