"""dbops: keep a database, its models and its Alembic migrations honest."""

from dbops.core.config import Settings, load_settings
from dbops.core.errors import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ConfigError,
    DatabaseUnreachable,
    DbopsError,
)

__version__ = "0.1.0"

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "ConfigError",
    "DatabaseUnreachable",
    "DbopsError",
    "Settings",
    "__version__",
    "load_settings",
]
