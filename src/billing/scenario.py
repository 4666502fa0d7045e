"""The sprint's starting point, derived from the current tree: what the status page of 2026-02-15 saw.

A copy of the project whose models are at head while the migration history lacks the sprint's five
revisions (after ``sprint_start`` in ``[tool.dbops]``, up to ``SPRINT_END``; later revisions follow the
sprint start directly), and whose two provider migrations have the eight lines
that convert the old free-text provider columns commented out, as they were then. In it
``invoke status`` shows 20 existing and 9 missing tables and 2 migration blockers, and
``invoke full-check`` fails the way the sprint's four phases describe.
Run: ``invoke scenario --into DIR`` (then ``cd DIR`` and run the tasks there).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dbops.checks.c6_history import declared_revisions

# Folders of a checkout that are not the project: caches, environments, servers, reports.
_SKIP = {".git", ".venv", ".dbops", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", "reports"}
VERSIONS = Path("src/billing/migrations/versions")
# The sprint's last revision: the five after the sprint start create its nine tables.
SPRINT_END = "0008_rbac"
# The op lines the sprint found commented out, per file, as written (a call over several lines goes whole).
COMMENTED = {
    # The enum and the new columns exist; the old free text is never converted into them...
    "0002_provider_enum.py": [
        'op.execute(f"UPDATE {table} SET provider = {provider_from_text(old)} WHERE {old} IS NOT NULL")',
    ],
    # ...nor checked, required, made unique or dropped; and the downgrade no longer re-adds the old column.
    "0003_provider_columns.py": [
        "op.execute(",
        "op.execute(fail_on_unmapped(table, old))",
        'op.alter_column(table, "provider", existing_type=PAYMENT_PROVIDER, nullable=False)',
        'op.drop_constraint(op.f(f"uq_{table}_{old}_{other}"), table, type_="unique")',
        'op.create_unique_constraint(op.f(f"uq_{table}_provider_{other}"), table, ["provider", other])',
        "op.drop_column(table, old)",
        "op.add_column(table, sa.Column(old, sa.String(50), nullable=True))",
    ],
}


def _replay_sprint_start(versions: Path, start: str, end: str) -> None:
    """Delete the sprint's own revisions (after ``start`` up to ``end``); what came after the sprint follows ``start``.

    Later work (a new column, a new table) is not what the sprint was about: it is kept, moved onto the
    sprint start, so the models at head and the history still differ by exactly the sprint's tables.
    """
    parents: dict[str, tuple[str | None, Path]] = {}
    for path in versions.glob("*.py"):
        rev, down = declared_revisions(path)
        if rev:
            parents[rev] = (down if isinstance(down, str) else None, path)
    before_start: set[str] = set()
    node: str | None = start
    while node is not None and node in parents:
        before_start.add(node)
        node = parents[node][0]
    sprint: set[str] = set()
    node = end
    while node is not None and node not in before_start and node in parents:
        sprint.add(node)
        node = parents[node][0]
    for rev in sprint:
        parents[rev][1].unlink()
    for rev, (down, path) in parents.items():
        if down == end and rev not in sprint:
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace(f'"{end}"', f'"{start}"'), encoding="utf-8")


def _comment_out(path: Path, lines: list[str]) -> None:
    """Comment out each listed statement (a call spanning lines goes whole); an emptied block gets ``pass``."""
    out: list[str] = []
    source = path.read_text(encoding="utf-8").splitlines()
    open_call, indent = 0, ""
    for line in source:
        stripped = line.strip()
        if not open_call:
            indent = line[: len(line) - len(line.lstrip())]
        if open_call or stripped in lines:
            out.append(f"{indent}# {stripped}")  # continuation lines keep the statement's indent (ruff format)
            open_call += stripped.count("(") - stripped.count(")")
            continue
        out.append(line)
    # A loop or if whose whole body is now comments needs a statement to stay valid Python.
    fixed: list[str] = []
    for i, line in enumerate(out):
        fixed.append(line)
        if line.rstrip().endswith(":") and not line.lstrip().startswith("#"):
            body = [ln for ln in out[i + 1 :] if ln.strip()]
            depth = len(line) - len(line.lstrip())
            block = []
            for ln in body:
                if len(ln) - len(ln.lstrip()) <= depth:
                    break
                block.append(ln)
            if block and all(ln.lstrip().startswith("#") for ln in block):
                fixed.append(" " * (depth + 4) + "pass  # the provider conversion: not done yet")
    path.write_text("\n".join(fixed) + "\n", encoding="utf-8")


def sprint_start(source: Path, into: Path, start: str) -> Path:
    """Copy the project at ``source`` into ``into`` as it stood at the sprint start ``start``; return ``into``."""
    if into.exists() and any(into.iterdir()):
        raise FileExistsError(f"{into} is not empty")
    shutil.copytree(source, into, ignore=lambda _dir, names: [n for n in names if n in _SKIP], dirs_exist_ok=True)
    versions = into / VERSIONS
    _replay_sprint_start(versions, start, SPRINT_END)
    for name, lines in COMMENTED.items():
        _comment_out(versions / name, lines)
    _quiet_linters(into / "pyproject.toml", [str(VERSIONS / name) for name in COMMENTED])
    return into


def _quiet_linters(pyproject: Path, files: list[str]) -> None:
    """What the team did then to keep static analysis green: ignore what the commented-out code leaves unused."""
    text = pyproject.read_text(encoding="utf-8")
    marker = "[tool.ruff.lint.per-file-ignores]\n"
    ignores = "".join(f'"{f}" = ["B007", "F401", "F841"]  # code commented out (the sprint start)\n' for f in files)
    pyproject.write_text(text.replace(marker, marker + ignores, 1), encoding="utf-8")
