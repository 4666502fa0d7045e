"""The commands a finding's hint names: start a revision, apply the pending ones (no SQLAlchemy here)."""

from __future__ import annotations

from dbops.core.errors import command_hint


def new_revision_hint(message: str) -> str:
    """The command that starts a migration doing ``message``."""
    return command_hint(f'migrate.new -m "{message}"')


def migrate_hint() -> str:
    """The command that applies the pending revisions."""
    return command_hint("migrate")
