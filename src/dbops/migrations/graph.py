"""The revision history as dbops reads it from the files, without importing them: ids, parents, order.

Alembic's own walk needs every revision file imported (the project's code, with the project's
libraries); this needs only their text. The order comes from the standard library's
``graphlib.TopologicalSorter``; ties are broken by file path, so it is the same on every machine.
"""

from __future__ import annotations

import ast
import graphlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dbops.migrations.scripts import declared, parse_source


@dataclass(frozen=True)
class Revision:
    """One revision file: its id, the revisions it follows, where it is and the first line of its docstring."""

    id: str
    downs: tuple[str, ...]
    path: Path
    doc: str = ""


@dataclass
class History:
    """Every readable revision by id (a duplicate id keeps the first file; the history scan names the second)."""

    revisions: dict[str, Revision] = field(default_factory=dict)

    @classmethod
    def read(cls, files: Iterable[Path]) -> History:
        """The history the revision files declare (files that do not parse or declare no id are left out)."""
        history = cls()
        for path in sorted(files):
            try:
                tree = parse_source(path.read_text(encoding="utf-8"), str(path))
            except (OSError, SyntaxError, ValueError):
                continue  # the history scan reports it
            rev, downs = declared(tree)
            if rev is not None and rev not in history.revisions:
                doc = (ast.get_docstring(tree) or "").strip().splitlines()
                history.revisions[rev] = Revision(rev, downs, path, doc[0] if doc else "")
        return history

    def __bool__(self) -> bool:
        return bool(self.revisions)

    @property
    def heads(self) -> list[str]:
        """Revisions no other revision follows."""
        followed = {down for rev in self.revisions.values() for down in rev.downs}
        return sorted(set(self.revisions) - followed)

    @property
    def bases(self) -> list[str]:
        """Revisions that follow none."""
        return sorted(rev.id for rev in self.revisions.values() if not rev.downs)

    def order(self) -> list[str]:
        """Every revision whose ancestry is complete, base first; a revision after its parents, ties by path.

        Raises graphlib.CycleError on a cycle (the history scan names it first).
        """
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for rev in sorted(self.revisions.values(), key=lambda r: str(r.path)):
            sorter.add(rev.id, *rev.downs)
        reachable = self.reachable()
        return [rev for rev in sorter.static_order() if rev in reachable]

    def reachable(self) -> set[str]:
        """Revisions whose every ancestor is a revision file of this history (reached from a base)."""
        done: dict[str, bool] = {}

        def complete(rev: str, seen: frozenset[str] = frozenset()) -> bool:
            if rev not in done:
                node = self.revisions.get(rev)
                done[rev] = (
                    node is not None and rev not in seen and all(complete(down, seen | {rev}) for down in node.downs)
                )
            return done[rev]

        return {rev for rev in self.revisions if complete(rev)}

    def ancestors(self, revs: Iterable[str]) -> set[str]:
        """``revs`` and every revision they follow."""
        out: set[str] = set()
        todo = list(revs)
        while todo:
            rev = todo.pop()
            if rev not in out and rev in self.revisions:
                out.add(rev)
                todo += self.revisions[rev].downs
        return out

    def pending(self, current: Iterable[str]) -> list[str]:
        """Revisions a database at ``current`` (its heads) still has to apply, base first."""
        applied = self.ancestors(current)
        return [rev for rev in self.order() if rev not in applied]
