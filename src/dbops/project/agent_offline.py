"""The agent's offline mode: the SQL the project's own Alembic emits for one revision step, statement by statement.

Loaded by ``agent.py`` (in the project's interpreter) from beside it; like the agent it imports nothing
from dbops and runs on Python 3.8+, SQLAlchemy 1.3 to 2.x and Alembic 1.x. Alembic writes each
statement with one ``write`` to its output buffer (``BEGIN;`` and ``COMMIT;`` included, so an
``autocommit_block`` shows as a COMMIT before and a BEGIN after), and the line of the revision file
that emitted it is read from the call stack at that moment.
"""

from __future__ import annotations

import os
import sys
from typing import Any


class _Statements:
    """An output buffer keeping each write apart, with the line of ``path`` that was running then."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.chunks: list[dict[str, Any]] = []
        self._real: dict[str, str] = {}

    def _line(self) -> int | None:
        frame: Any = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if name not in self._real:
                self._real[name] = os.path.realpath(name) if not name.startswith("<") else name
            if self._real[name] == self.path:
                return int(frame.f_lineno)
            frame = frame.f_back
        return None

    def write(self, text: str) -> int:
        self.chunks.append({"sql": text, "line": self._line()})
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


def offline_sql(agent: Any, revision: str, parents: list[str]) -> dict[str, Any]:
    """The statements of ``revision``'s upgrade from ``parents`` in Alembic's offline (``--sql``) mode."""
    from alembic.runtime.migration import RevisionStep

    script = agent.script
    out = _Statements("")
    found: list[Any] = []

    def steps(heads: Any, context: Any) -> list[Any]:
        # Resolved only now: env.py may have chosen the version folders (the revision map is read after it).
        rev = script.get_revision(revision)
        out.path = os.path.realpath(rev.path)
        found.append(rev)
        return [RevisionStep(script.revision_map, rev, True)]

    start = parents[0] if len(parents) == 1 else (tuple(parents) or None)
    # As the agent runs env.py (an env.py that calls .connect() on what it is handed gets an Engine).
    agent.run_env(steps, as_sql=True, starting_rev=start, destination_rev=revision, output_buffer=out)
    return {"statements": out.chunks, "ran": bool(found), "path": found[0].path if found else None}
