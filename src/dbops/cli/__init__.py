"""What every command-line entry point shares: one-line errors, exit codes, masked output, settings."""

from dbops.cli.shared import (
    BACKEND_HELP,
    DB_HELP,
    URL_HELP,
    cache_library_bytecode,
    debug_enabled,
    fail,
    handled,
    program_name,
    settings_for,
)

__all__ = [
    "BACKEND_HELP",
    "DB_HELP",
    "URL_HELP",
    "cache_library_bytecode",
    "debug_enabled",
    "fail",
    "handled",
    "program_name",
    "settings_for",
]
