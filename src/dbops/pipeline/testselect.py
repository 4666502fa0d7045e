"""Rerun only the tests a change can affect, from per-test records of the functions each test executed.

A record (JSON in the cache folder, one per test step) holds a snapshot of the project's files and, per
test, its outcome and the functions it ran (see :mod:`dbops.pipeline.testrecord`, the pytest plugin that writes it).
A change is narrowed to the function bodies it touches; anything else that changed runs every test:
no record, another interpreter or package set, an added or removed file, a changed non-Python file or
conftest.py, a module's top-level code (imports, signatures, decorators, class bodies), a file the caller
names as always-full (migrations, the seed), or a function the session ran outside any test.
Comment- and blank-line-only edits change no fingerprint, so they rerun nothing.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops.core.discover import project_files, skipped_dir
from dbops.core.errors import DbopsError
from dbops.core.private import write_private

RECORD_VERSION = 1
Snapshot = dict[str, dict[str, Any]]


def is_tracked(root: Path, path: str) -> str | None:
    """The path relative to ``root`` if it is one of the project's own files, else None."""
    try:
        rel = Path(path).resolve().relative_to(root)
    except ValueError:
        return None
    return None if any(skipped_dir(part) for part in rel.parts[:-1]) else str(rel)


def blocks(tree: ast.Module) -> list[tuple[str, int, int, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Functions not nested in another function: (qualified name, first line, last line, node)."""
    out: list[tuple[str, int, int, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    seen: dict[str, int] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _memoized(child):
                name = prefix + child.name
                seen[name] = seen.get(name, 0) + 1
                if seen[name] > 1:  # a property's setter, an overload: same name, another block
                    name = f"{name}#{seen[name]}"
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                out.append((name, start, child.end_lineno or child.lineno, child))
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            else:
                walk(child, prefix)

    walk(tree, "")
    return out


def parse(path: Path) -> ast.Module | None:
    """The file's syntax tree, or None when it cannot be read or parsed."""
    try:
        return ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None


def _memoized(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A cached function's body runs in whichever test comes first: it stays in the skeleton (a change runs all)."""
    return any(word in ast.unparse(d).lower() for d in node.decorator_list for word in ("cache", "memo"))


def fingerprint_source(source: bytes) -> dict[str, Any] | None:
    """The hash of a module's top-level code and of each function body (comments ignored); None if unparsable."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    found = blocks(tree)
    bodies = {name: _hash("\n".join(ast.dump(stmt) for stmt in node.body)) for name, _, _, node in found}
    for _, _, _, node in found:
        node.body = []  # what remains is what runs on import: the skeleton
    return {"skeleton": _hash(ast.dump(tree)), "blocks": bodies}


def _hash(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()[:16]


def snapshot(root: Path, previous: Snapshot | None = None) -> Snapshot:
    """Each project file's content hash, plus fingerprints for Python files (reused when the hash is unchanged)."""
    previous = previous or {}
    out: Snapshot = {}
    for rel in project_files(root):
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue  # vanished while walking
        sha = _hash(data)
        old = previous.get(rel)
        if old and old.get("sha") == sha:
            out[rel] = old
            continue
        entry: dict[str, Any] = {"sha": sha}
        if rel.endswith(".py"):
            entry["py"] = fingerprint_source(data)
        out[rel] = entry
    return out


@dataclass
class Plan:
    """What to run: everything (``full``, with the reason), these node ids, or nothing."""

    full: bool
    reason: str
    run: list[str] = field(default_factory=list)
    unaffected: int = 0


def under(rel: str, prefixes: Sequence[str]) -> bool:
    """Whether ``rel`` is one of ``prefixes`` or inside one of them ("." holds everything)."""
    return any(p == "." or rel == p or rel.startswith(p.rstrip("/") + "/") for p in prefixes)


def changes(old: Snapshot, new: Snapshot, always_full: Sequence[str]) -> tuple[str, set[str], set[str]]:
    """(reason for a full run or "", changed files, changed function bodies as "file::name")."""
    if set(old) != set(new):
        added, removed = sorted(set(new) - set(old)), sorted(set(old) - set(new))
        return f"files added or removed ({', '.join((added + removed)[:3])})", set(), set()
    files: set[str] = set()
    bodies: set[str] = set()
    for rel, entry in new.items():
        before = old[rel]
        if before.get("sha") == entry.get("sha"):
            continue
        files.add(rel)
        py, was = entry.get("py"), before.get("py")
        if not rel.endswith(".py") or Path(rel).name == "conftest.py":
            return f"{rel} changed", files, bodies
        if not py or not was or py["skeleton"] != was["skeleton"]:
            return f"{rel} changed outside function bodies", files, bodies
        changed = {n for n in set(py["blocks"]) | set(was["blocks"]) if py["blocks"].get(n) != was["blocks"].get(n)}
        if changed and under(rel, always_full):
            return f"{rel} changed (runs outside the tests)", files, bodies
        bodies.update(f"{rel}::{name}" for name in changed)
    return "", files, bodies


def load_record(path: Path) -> dict[str, Any] | None:
    """The record at ``path``, or None when it is missing, unreadable or of another format."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("version") == RECORD_VERSION else None


def _touches(entry: dict[str, Any], files: set[str], bodies: set[str]) -> bool:
    """Whether what a test or fixture ran (or read, or started) meets the changes."""
    if entry.get("opaque") and bodies:
        return True  # it started Python code we could not watch, and some code changed
    return bool(files.intersection(entry.get("read", ())) or bodies.intersection(entry.get("deps", ())))


def affected(entry: dict[str, Any], fixtures: dict[str, dict[str, Any]], files: set[str], bodies: set[str]) -> bool:
    """Whether a recorded test must run again: not a pass last time, or it or a fixture it uses met the changes."""
    if entry.get("outcome") != "passed" or _touches(entry, files, bodies):
        return True
    return any(_touches(fixtures.get(name, {}), files, bodies) for name in entry.get("fixtures", ()))


def plan(record: dict[str, Any] | None, current: Snapshot, key: str, always_full: Sequence[str]) -> Plan:
    """Decide what to run against the record of earlier runs (any doubt means a full run)."""
    if record is None:
        return Plan(True, "no record of an earlier run")
    if record.get("key") != key:
        return Plan(True, "another interpreter, package set or test command than last time")
    reason, files, bodies = changes(record["files"], current, always_full)
    if reason:
        return Plan(True, reason)
    global_files = set(record.get("global_files", ()))
    touched = sorted(b for b in bodies if b in set(record.get("globals", ())) or b.split("::")[0] in global_files)
    if touched:
        return Plan(True, f"{touched[0]} runs outside any test (at import or session start)")
    tests: dict[str, dict[str, Any]] = record.get("tests", {})
    fixtures: dict[str, dict[str, Any]] = record.get("fixtures", {})
    run = [node for node, entry in tests.items() if affected(entry, fixtures, files, bodies)]
    return Plan(False, "narrowed", run, len(tests) - len(run))


def record_key(extra: Iterable[str]) -> str:
    """What a record is only valid for: the interpreter, the installed packages and ``extra`` (the command)."""
    from dbops.cache.inputs import input_key

    return input_key(Path.cwd(), [], [sys.version, *extra])


def always_full_paths(root: Path, settings: Any) -> list[str]:
    """Files whose code runs outside the tests (a template's migrations and seed): any change runs everything."""
    paths: list[str] = []
    try:
        from dbops.migrations import check_history, open_scripts, version_folders

        script = open_scripts(settings)
        check_history(settings, script)
        paths += [str(Path(script.dir).resolve()), *(str(p.resolve()) for p in version_folders(script))]
    except DbopsError:
        return ["."]  # no readable history: the migrate step says why; every test runs meanwhile
    if settings.seed:
        import importlib.util

        spec = importlib.util.find_spec(settings.seed.partition(":")[0])
        if spec is None or not spec.origin:
            return ["."]
        paths.append(spec.origin)
    out = [is_tracked(root, p) for p in paths]
    return ["."] if None in out else sorted({p for p in out if p})


@dataclass
class Narrowed:
    """A test step's pytest arguments after selection (None: nothing to run), and a note for its summary."""

    args: list[str] | None
    note: str
    plan_file: Path | None = None


def narrow(settings: Any, name: str, target: str, extra: Sequence[str]) -> Narrowed:
    """Plan a test step from its record; write the plan the recording plugin needs; return pytest's arguments."""
    root = Path(settings.root).resolve()
    folder = Path(settings.cache_dir) / "testselect"
    record_path = folder / f"{name}.json"
    where = [settings.resolved_backend, settings.url or "", settings.pg_version or "", settings.docker_image]
    key = record_key([target, *extra, *where])
    record = load_record(record_path)
    current = snapshot(root, record["files"] if record else None)
    chosen = plan(record, current, key, always_full_paths(root, settings))
    if record is not None and not chosen.full and not chosen.run:
        # Only edits no test can see (comments, say): the record moves on to this tree.
        write_private(record_path, json.dumps({**record, "files": current}))
        return Narrowed(None, f"{chosen.unaffected} tests unaffected by the changes: not rerun")
    plan_file = folder / f"{name}.plan-{os.getpid()}.json"
    write_private(plan_file, json.dumps({"key": key, "files": current, "full": chosen.full, "run": chosen.run}))
    rec = ["-p", "dbops.pipeline.testrecord", f"--dbops-record={record_path}", f"--dbops-plan={plan_file}"]
    if chosen.full:
        return Narrowed([target, *extra, *rec], f"all tests ({chosen.reason})", plan_file)
    # A handful of tests finish before pytest-xdist's workers would have started.
    few = [a for i, a in enumerate(extra) if a != "-n" and (i == 0 or extra[i - 1] != "-n")]
    args = [*chosen.run, *(few if len(chosen.run) <= 12 else extra), *rec]
    return Narrowed(args, f"{len(chosen.run)} affected tests, {chosen.unaffected} unaffected not rerun", plan_file)
