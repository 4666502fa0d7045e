"""Errors that carry an exit code, a one-line message and a hint with the fix."""

from __future__ import annotations

from typing import Any

# Documented exit codes (README, "Exit codes").
EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130
# A bug of ours (an exception nobody expected): sysexits' EX_SOFTWARE.
EXIT_INTERNAL = 70


class DbopsError(Exception):
    """Base error: ``message`` says what and why, ``hint`` says how to fix it."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message and hint as the single line users see."""
        return f"{self.message} (fix: {self.hint})" if self.hint else self.message


class ConfigError(DbopsError):
    """Bad configuration or bad input: exit 2."""


class UnsafeOperation(DbopsError):
    """A refused destructive operation (dropping a non-disposable remote database): exit 2."""


class DatabaseUnreachable(DbopsError):
    """The server cannot be reached or refuses our credentials: exit 3."""

    exit_code = EXIT_UNREACHABLE


class BackendUnavailable(DbopsError):
    """A database backend cannot run on this machine (no binaries, no Docker engine): exit 3."""

    exit_code = EXIT_UNREACHABLE


class MigrationError(DbopsError):
    """A migration script failed or the history is broken: exit 1."""

    exit_code = EXIT_FINDINGS


class ModelsUnbuilt(MigrationError):
    """The models' create_all failed on PostgreSQL: nothing to compare the history with (exit 1)."""


class SeedFailed(MigrationError):
    """The seed could not load (usually: it writes into a table the migrations do not create): exit 1."""


class HistoryBroken(MigrationError):
    """The revision files do not form one history (heads, bases, cycles, dangling or broken files): exit 1.

    Carries the C6-history findings, so every task shows each one with its fix.
    """

    def __init__(self, findings: list[Any]) -> None:
        first = findings[0]
        super().__init__(first.message, first.hint)
        self.findings = findings


class NotChecked(DbopsError):
    """A rule could not look (env.py would not run, the metadata is incomplete): the result says so, exit 1."""

    exit_code = EXIT_FINDINGS


class FindingsDetected(DbopsError):
    """A check found errors: exit 1, and nothing more to say (the report has shown them)."""

    exit_code = EXIT_FINDINGS

    def __init__(self, result: Any) -> None:
        errors = getattr(result, "errors", [])
        super().__init__(f"{len(errors)} error finding(s)")
        self.result = result


# The program the user ran (``dbops``, or ``invoke`` in a repository whose tasks.py uses dbops's tasks):
# every hint names the command to type in that program. The entry point sets it before a task runs.
_PROGRAM = {"name": "dbops"}


def set_program(name: str) -> None:
    """Record the program the user ran, for hints."""
    _PROGRAM["name"] = name


def command_hint(args: str) -> str:
    """The command line that runs ``args`` (a task and its options) in the program the user ran."""
    return f"{_PROGRAM['name']} {args}"


class ProjectCodeError(DbopsError):
    """The project's own code (a models module, a revision, a hook) raised: exit 2, naming where."""

    def __init__(self, message: str, hint: str, original: BaseException) -> None:
        super().__init__(message, hint)
        self.original = original
