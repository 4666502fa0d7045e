"""The history's shape, read from the revision files without letting Alembic import or walk them.

Every task that reads the history runs this first: several heads, several bases, a cycle, a
down_revision that names no file, a duplicate id, a file that does not parse or does not import.
Each is one C6-history finding with the fix (the exact ``alembic merge`` command, the file to edit),
never Alembic's own sentence. Cheap: the files are parsed once per process and cached by content.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from pathlib import Path

from dbops.core.config import Settings
from dbops.core.errors import DbopsError, HistoryBroken, command_hint
from dbops.core.findings import ERROR, Finding
from dbops.migrations.scriptdir import Scripts, revision_files
from dbops.migrations.scripts import module_literals, parse_source

RULE = "C6-history"
BASE = None


def _finding(obj: str, message: str, hint: str) -> Finding:
    return Finding(rule=RULE, severity=ERROR, object=obj, message=message, hint=hint)


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


@functools.lru_cache(maxsize=512)
def _declared(text: str, name: str) -> tuple[object, tuple[object, bool], str | None]:
    """(revision, (down_revision, has branch labels), syntax error) of one file's text."""
    try:
        tree = parse_source(text, name)
    except SyntaxError as exc:
        return None, (None, False), f"line {exc.lineno}: {exc.msg}"
    values = module_literals(tree)
    labelled = values.get("branch_labels") is not None
    return values.get("revision"), (values.get("down_revision"), labelled), None


def _downs(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def scan_history(files: Iterable[Path], root: Path, import_errors: Mapping[str, str] | None = None) -> list[Finding]:
    """C6-history findings for the revision files: broken files and a graph with other than one base and head.

    ``import_errors`` (path -> error) come from importing each file in the project's interpreter.
    """
    findings: list[Finding] = []
    owner: dict[str, Path] = {}
    downs: dict[str, tuple[str, ...]] = {}
    labelled = False
    for path in files:
        revision, (down, has_labels), syntax = _declared(path.read_text(encoding="utf-8", errors="replace"), str(path))
        where = _shown(path, root)
        if syntax:
            findings.append(_finding(where, f"{where} has a syntax error at {syntax}", f"fix {where}"))
            continue
        if not isinstance(revision, str):
            continue  # not a revision file (a helper module next to them)
        if revision in owner:
            first = _shown(owner[revision], root)
            findings.append(
                _finding(
                    revision,
                    f"revision id {revision} is declared by both {first} and {where}",
                    f"give {where} a new revision id (and fix the down_revision that should point at it)",
                )
            )
            continue
        error = (import_errors or {}).get(str(path))
        if error:
            findings.append(_finding(where, f"{where} does not import: {error}", f"fix {where}"))
        owner[revision] = path
        downs[revision] = _downs(down)
        labelled = labelled or has_labels
    findings += _graph(owner, downs, root, branches_are_deliberate=labelled)
    return findings


def _graph(
    owner: dict[str, Path], downs: dict[str, tuple[str, ...]], root: Path, branches_are_deliberate: bool
) -> list[Finding]:
    findings: list[Finding] = []
    for rev, parents in sorted(downs.items()):
        for parent in parents:
            if parent not in owner:
                where = _shown(owner[rev], root)
                findings.append(
                    _finding(
                        rev,
                        f"{where}: down_revision {parent!r} names no revision file",
                        f"in {where}, set down_revision to the revision it follows "
                        f"(see `{command_hint('migrate.history')}`)",
                    )
                )
    cycle = _cycle(downs)
    if cycle:
        findings.append(
            _finding(
                ",".join(cycle),
                f"the history has a cycle: {' -> '.join([*cycle, cycle[0]])}",
                f"fix the down_revision of one of {', '.join(_shown(owner[r], root) for r in cycle)}",
            )
        )
    if findings:
        return findings  # heads and bases mean little in a graph with dangling or circular links
    children = {parent for parents in downs.values() for parent in parents}
    heads = sorted(set(downs) - children)
    bases = sorted(rev for rev, parents in downs.items() if not parents)
    # A project that labels its branches keeps several heads on purpose (alembic upgrade heads).
    if len(heads) > 1 and not branches_are_deliberate:
        findings.append(
            _finding(
                ",".join(heads),
                f"the history has {len(heads)} heads: {', '.join(heads)}",
                f'merge them: alembic merge -m "merge heads" {" ".join(heads)}',
            )
        )
    if len(bases) > 1 and not branches_are_deliberate:
        files = ", ".join(_shown(owner[b], root) for b in bases[1:])
        findings.append(
            _finding(
                ",".join(bases),
                f"the history has {len(bases)} bases (down_revision = None): {', '.join(bases)}",
                f"in {files}, set down_revision to the revision it follows",
            )
        )
    return findings


def _cycle(downs: dict[str, tuple[str, ...]]) -> list[str]:
    """One cycle in the down_revision graph, as a list of revisions; [] when there is none."""
    state: dict[str, int] = {}
    for start in sorted(downs):
        path: list[str] = []
        node: str | None = start
        while node is not None and node in downs and state.get(node, 0) == 0:
            state[node] = 1
            path.append(node)
            nxt = [p for p in downs[node] if p in downs]
            node = nxt[0] if nxt else None  # one parent suffices: any cycle through a merge shows up from its start
        if node is not None and state.get(node) == 1 and node in path:
            return path[path.index(node) :]
        for done in path:
            state[done] = 2
    return []


def history_failure(obj: str, exc: DbopsError) -> Finding:
    """The one wording, in every task, of a history that does not apply: what failed, where, the server's word."""
    return _finding(obj, f"the history does not apply: {exc.message}", exc.hint or "fix the migration")


def check_history(settings: Settings, script: Scripts) -> None:
    """Raise HistoryBroken with one finding per problem, before anything runs (the files are read, not imported)."""
    check_files(settings, revision_files(script))


def check_files(settings: Settings, files: list[Path], import_errors: Mapping[str, str] | None = None) -> None:
    """Raise HistoryBroken for these revision files' problems (``import_errors`` from the project's interpreter)."""
    found = scan_history(files, settings.root, import_errors)
    if found:
        raise HistoryBroken(found)
