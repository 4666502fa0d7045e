"""The data one revision moves, testable: a copy of the database at the revision's parent, one step up and down.

Put rows in at the parent, ``upgrade()`` applies exactly that revision (the project's own Alembic), assert on
the rows; ``downgrade()`` takes it back, assert again. The copy is a clone of the template the history
built to the parent, dropped by ``close()``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError, command_hint
from dbops.lifecycle import templates
from dbops.migrations.graph import History
from dbops.migrations.migrator import Migrator
from dbops.migrations.scriptdir import project_revision_files


class RevisionData:
    """A throwaway database at ``revision``'s parent, moved one step at a time."""

    def __init__(
        self, settings: Settings, server: URL, revision: str, engine_for: Callable[[URL], Any] | None = None
    ) -> None:
        history = History.read(project_revision_files(settings))
        if revision not in history.revisions:
            raise ConfigError(
                f"{revision!r} is not a revision of this history", f"see `{command_hint('migrate.history')}`"
            )
        self.settings, self.server, self.revision = settings, server, revision
        downs = history.revisions[revision].downs
        self.parent = downs[0] if len(downs) == 1 else "base"
        if len(downs) > 1:
            raise ConfigError(
                f"{revision} merges {len(downs)} revisions: it moves no data", "test a revision it merges"
            )
        template = templates.ensure_template(settings, server, self.parent)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.name = f"t_{settings.database[:20]}_step_{worker}_{uuid.uuid4().hex[:8]}"
        self.url = templates.clone(server, template, self.name)
        # The project's own SQLAlchemy makes the engine (dbops.testing hands a maker in): dbops has none.
        self._engine_for = engine_for
        self._engine: Any = None

    @property
    def engine(self) -> Any:
        """A SQLAlchemy engine on the copy (no pool), the project's own."""
        if self._engine is None:
            if self._engine_for is None:
                raise ConfigError("this copy was made without an engine maker", "use the revision_data fixture")
            self._engine = self._engine_for(self.url)
        return self._engine

    def _step(self, up: bool) -> None:
        if self._engine is not None:
            self._engine.dispose()  # no session of ours may hold a lock the migration waits for
        m = Migrator(self.settings, self.url)
        try:
            m.step(self.revision, up)
        finally:
            m.close()

    def upgrade(self) -> None:
        """Apply exactly this revision's upgrade."""
        self._step(True)

    def downgrade(self) -> None:
        """Apply exactly this revision's downgrade."""
        self._step(False)

    def close(self) -> None:
        """Drop the copy."""
        if self._engine is not None:
            self._engine.dispose()
        database.drop(self.server, self.name, disposable=(self.name,))
