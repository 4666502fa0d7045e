"""Migration blockers found by reading the files, no database needed.

``B0-syntax``: the file does not parse. ``B1-commented-code``: a commented-out ``op.``/``sa.`` line
(work someone switched off). ``B2-downgrade``: ``downgrade()`` missing, empty (only ``pass``, ``...``
or a docstring) or raising NotImplementedError while ``upgrade()`` changes the schema (merge, empty and
data-only revisions need no downgrade, nor those whose schema changes run only on other databases, under
``if conn.dialect.name == "mysql":`` and the like, nor repairs whose DDL is ``CREATE ... IF NOT EXISTS``: what
may be there already belongs to an earlier revision), above the downgrade floor (``downgrade_floor`` or a
``# dbops: downgrade-floor`` comment: that revision and those below it are irreversible by design).
A commented-out op line directly followed by the ``op.execute(...)`` that replaces it is not B1.
``B3-todo``: TODO/FIXME/XXX in a comment (warning).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from pathlib import Path

from dbops.checks.context import CheckContext
from dbops.core.config import Settings
from dbops.core.findings import ERROR, WARNING, Finding
from dbops.migrations.scriptdir import project_revision_files
from dbops.migrations.scripts import declared, floor_revisions, parse_source

SYNTAX, COMMENTED, DOWNGRADE, TODO = "B0-syntax", "B1-commented-code", "B2-downgrade", "B3-todo"
RULES = (SYNTAX, COMMENTED, DOWNGRADE, TODO)
BLOCKING = frozenset({SYNTAX, COMMENTED, DOWNGRADE})

_CODE = re.compile(r"^#+\s*(?:op|sa)\.\w+")
_MARKER = re.compile(r"\b(TODO|FIXME|XXX)\b")
# op calls that never change the schema (data changes, helpers); op.execute counts when its SQL is DDL.
_NOT_SCHEMA = frozenset({"execute", "bulk_insert", "get_bind", "get_context", "f", "inline_literal", "run_async"})
_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP|COMMENT|GRANT|REVOKE)\b", re.I)
_CREATE_IF_MISSING = re.compile(r"^\s*CREATE\b[^;]*?\bIF\s+NOT\s+EXISTS\b[^;]*;?\s*$", re.I)
_NOT_DDL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REINDEX|VACUUM|ANALYZE|REFRESH)\b", re.I)
# The SQL verb of an op.execute(...) line (its first string literal, maybe inside text()).
_EXECUTE_VERB = re.compile(r"""^op\.execute\(\s*(?:(?:sa\.)?text\(\s*)?[rbuRBU]*(?:'{3}|"{3}|'|")\s*([A-Za-z]+)""")
_COMMENTED_OP = re.compile(r"^#+\s*op\.(\w+)")


def _where(path: Path, root: Path | None, line: int) -> str:
    shown: Path | str = path
    if root is not None:
        try:
            shown = path.resolve().relative_to(root.resolve())
        except ValueError:
            shown = path
    return f"{shown}:{line}"


def _comments(source: str) -> Iterator[tuple[int, str]]:
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string


def _is_empty(body: list[ast.stmt]) -> bool:
    """Only a docstring, ``pass`` or ``...``."""
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring or a bare ``...``
        return False
    return True


def _raises_not_implemented(func: ast.FunctionDef) -> ast.Raise | None:
    for node in ast.walk(func):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id == "NotImplementedError":
                return node
    return None


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    return funcs[-1] if funcs else None  # Python keeps the last definition


def _names_dialect(node: ast.expr) -> bool:
    """``conn.dialect.name``, ``op.get_bind().engine.name``, ``dialect.name``, a ``dialect_name`` variable."""
    if isinstance(node, ast.Name):
        return "dialect" in node.id.lower()
    if not (isinstance(node, ast.Attribute) and node.attr == "name"):
        return False
    owner = node.value
    return (isinstance(owner, ast.Attribute) and owner.attr in ("dialect", "engine")) or (
        isinstance(owner, ast.Name) and "dialect" in owner.id.lower()
    )


def _runs_on_postgresql(test: ast.expr) -> bool | None:
    """Whether an ``if`` body runs on PostgreSQL when its test compares the dialect's name with literals; None when
    the test is about something else (both branches may run)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, (ast.Eq, ast.NotEq)) and _names_dialect(right):
        left, right = right, left
    if not _names_dialect(left):
        return None
    items = right.elts if isinstance(right, (ast.List, ast.Tuple, ast.Set)) else [right]
    names = [item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    if len(names) != len(items) or not isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)):
        return None
    return ("postgresql" in names) == isinstance(op, (ast.Eq, ast.In))


def _walk_on_postgresql(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` without the branches of an ``if`` on the dialect's name that never run on PostgreSQL."""
    yield node
    on_postgresql = _runs_on_postgresql(node.test) if isinstance(node, ast.If) else None
    if isinstance(node, ast.If) and on_postgresql is not None:
        children: list[ast.AST] = [node.test, *(node.body if on_postgresql else node.orelse)]
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        yield from _walk_on_postgresql(child)


def changes_schema(tree: ast.Module) -> bool:
    """True if ``upgrade()`` calls a schema-changing op (or op.execute with DDL) on PostgreSQL; unknown shapes count
    as True, code under ``if <dialect name> == "mysql":`` (and the like) does not."""
    func = _function(tree, "upgrade")
    if func is None:
        return False
    for node in _walk_on_postgresql(func):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id == "op"):
            continue
        if node.func.attr not in _NOT_SCHEMA:
            return True
        if node.func.attr == "execute" and node.args and _executes_ddl(node.args[0]):
            return True
    return False


def _executes_ddl(arg: ast.expr) -> bool:
    """True for op.execute's argument when it is DDL, or SQL text we cannot read; False for data changes."""
    if isinstance(arg, ast.Call):
        name = arg.func.attr if isinstance(arg.func, ast.Attribute) else getattr(arg.func, "id", "")
        if name != "text":
            return False  # a SQLAlchemy insert()/update()/delete() construct: data only
        arg = arg.args[0] if arg.args else arg
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        # CREATE ... IF NOT EXISTS says the object may be there already (a repair of what an earlier revision
        # owns, Prefect's c8d5f2a71b3e): the revision does not own it, and its downgrade has nothing to drop.
        return bool(_DDL.match(arg.value)) and not _CREATE_IF_MISSING.match(arg.value)
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        head = str(arg.values[0].value)  # an f-string: its verb is read, the rest is filled in at run time
        return bool(_DDL.match(head)) or not _NOT_DDL.match(head)
    return True  # SQL built at run time: assume it may change the schema


def _replaced_by_execute(lines: list[str], line: int, comment: str) -> bool:
    """True if the next code line after comment ``line`` (1-based) is the op.execute(...) doing the same work in SQL.

    A commented op.bulk_insert replaced by an INSERT, or a commented schema op replaced by DDL
    (CREATE/ALTER/DROP/COMMENT), is deliberate; anything else stays a B1 finding.
    """
    op = _COMMENTED_OP.match(comment)
    if op is None or op.group(1) in ("execute", "get_bind", "f"):
        return False
    wanted = {"INSERT"} if op.group(1) == "bulk_insert" else {"CREATE", "ALTER", "DROP", "COMMENT"}
    for text in lines[line:]:
        stripped = text.strip()
        if stripped and not stripped.startswith("#"):
            verb = _EXECUTE_VERB.match(stripped)
            return verb is not None and verb.group(1).upper() in wanted
    return False


def _downgrade(tree: ast.Module) -> Iterator[tuple[int, str, str]]:
    if not changes_schema(tree):
        return  # merge, empty and data-only revisions have nothing to undo in the schema
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "downgrade"]
    if not funcs:
        yield 1, "has no downgrade() function", "add a downgrade() that undoes upgrade() step by step, in reverse order"
        return
    func = funcs[-1]  # Python keeps the last definition
    raising = _raises_not_implemented(func)
    if raising is not None:
        yield (
            raising.lineno,
            "downgrade() raises NotImplementedError",
            "write the downgrade: undo upgrade() in reverse order",
        )
    elif _is_empty(func.body):
        yield (
            func.lineno,
            "downgrade() does nothing",
            "undo upgrade() in reverse order (drop what it creates, restore what it drops)",
        )


def scan_file(path: Path, root: Path | None = None, floor: frozenset[str] = frozenset()) -> list[Finding]:
    """Blocker findings of one migration file; a file that does not parse is one B0 finding."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Finding(SYNTAX, ERROR, _where(path, root, 1), f"cannot read the file: {exc}", "fix the file")]
    try:
        tree = parse_source(source, str(path))
        comments = list(_comments(source))
    except SyntaxError as exc:
        line = exc.lineno or 1
        return [
            Finding(
                SYNTAX,
                ERROR,
                _where(path, root, line),
                f"syntax error: {exc.msg}",
                "fix the syntax; Alembic cannot load this file",
            )
        ]
    except (tokenize.TokenError, ValueError) as exc:
        return [Finding(SYNTAX, ERROR, _where(path, root, 1), f"cannot tokenize: {exc}", "fix the syntax")]
    out: list[Finding] = []
    lines = source.splitlines()
    for line, comment in comments:
        if _CODE.match(comment) and not _replaced_by_execute(lines, line, comment):
            snippet = comment if len(comment) <= 80 else comment[:77] + "..."
            out.append(
                Finding(
                    COMMENTED,
                    ERROR,
                    _where(path, root, line),
                    f"commented-out migration code: {snippet}",
                    "restore the operation (and its counterpart in the other direction) or delete the line",
                )
            )
        marker = _MARKER.search(comment)
        if marker:
            out.append(
                Finding(
                    TODO,
                    WARNING,
                    _where(path, root, line),
                    f"{marker.group(1)} left in a migration: {comment.strip()[:80]}",
                    "finish the work or move the note to the issue tracker",
                )
            )
    below_floor = declared(tree)[0] in floor
    for line, message, hint in [] if below_floor else _downgrade(tree):
        out.append(Finding(DOWNGRADE, ERROR, _where(path, root, line), message, hint))
    return sorted(out, key=lambda f: (int(f.object.rsplit(":", 1)[1]), f.rule))


def scan_blockers(target: Settings | Iterable[Path | str], root: Path | None = None) -> list[Finding]:
    """Blocker findings of the project's migration files (given Settings) or of the given paths."""
    floor: frozenset[str] = frozenset()
    if isinstance(target, Settings):
        paths = project_revision_files(target)
        root = root or target.root
        floor = frozenset(floor_revisions(paths, target.downgrade_floor))
    else:
        paths = [Path(p) for p in target]
    out: list[Finding] = []
    for path in paths:
        out += scan_file(path, root, floor)
    return out


def blocked_files(findings: Iterable[Finding]) -> int:
    """How many files carry a blocking (error) finding: the status block's "Migration Blockers"."""
    return len({f.object.rsplit(":", 1)[0] for f in findings if f.rule in BLOCKING})


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The blocker scan as rule B of a consistency run: findings of the project's migration files."""
    paths = ctx.revision_files
    floor = frozenset(floor_revisions(paths, ctx.settings.downgrade_floor))
    for path in paths:
        yield from scan_file(path, ctx.settings.root, floor)
