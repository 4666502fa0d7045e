"""dbops: keep a database, its models and its Alembic migrations honest."""

from dbops.config import Settings, load_settings
from dbops.errors import (
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
