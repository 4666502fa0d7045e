"""squawk (the ``squawk-cli`` wheel) on each revision's SQL, its findings tied back to the statement and its line.

squawk knows PostgreSQL migration SQL statically; dbops measured what PostgreSQL did. Where squawk
names a hazard dbops measures (an index built without CONCURRENTLY, say), the measurement decides:
squawk's word is added to dbops's finding on the same statement, or dropped when PostgreSQL showed no
lock, scan or rewrite that hurts (a table created by the same revision). Where squawk knows something
no measurement on an empty copy can show (a NOT NULL column added without a default fails on a
table with rows), its finding stands on its own as ``S-<squawk rule>``. Style rules (integer widths,
IF NOT EXISTS, timestamptz, where a new enum value goes) are not production hazards and are left out, and
so are dropping a constraint or a default (brief locks: the last steps of the safe SET NOT NULL and of a
backfilled NOT NULL column).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dbops.checks.review.measure import Statement

NOT_INSTALLED = "squawk is not installed (pip install squawk-cli): its static rules did not run"
# Style and robustness rules, not hazards to a running database; lock_timeout is dbops's M8, per revision.
EXCLUDED = (
    "prefer-robust-stmts",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    "ban-char-field",
    "require-statement-timeout",
    "require-lock-timeout",
    "require-timeout-settings",
    "require-enum-value-ordering",
    "ban-drop-constraint",
    "ban-drop-default",
)
# squawk rule -> the dbops rule that measures it (the measurement decides).
MEASURED = {
    "require-concurrent-index-creation": "M1",
    "require-concurrent-index-deletion": "M1",
    "constraint-missing-not-valid": "M2",
    "adding-foreign-key-constraint": "M2",
    "adding-not-nullable-field": "M3",
    "changing-column-type": "M4",
    "adding-field-with-default": "M5",
    "disallowed-unique-constraint": "M6",
    "adding-serial-primary-key-field": "M6",
    "renaming-column": "M7",
    "renaming-table": "M7",
    "ban-drop-column": "M7",
    "ban-drop-table": "M7",
}


@dataclass(frozen=True)
class Said:
    """One squawk finding: the statement it is about (an index into the revision's statements), rule, text."""

    statement: int
    rule: str
    message: str
    help: str


def binary() -> str | None:
    """The squawk executable: on PATH, or beside this interpreter (a venv that is not activated)."""
    beside = Path(sys.executable).parent / ("squawk.exe" if os.name == "nt" else "squawk")
    return shutil.which("squawk") or (str(beside) if beside.is_file() else None)


def script(stmts: list[Statement]) -> tuple[str, list[int]]:
    """The statements as one SQL script with their transactions, and the (0-based) line each starts on."""
    lines: list[str] = []
    starts: list[int] = []
    current = 0
    for stmt in stmts:
        if stmt.transaction != current:
            if current:
                lines.append("COMMIT;")
            if stmt.transaction:
                lines.append("BEGIN;")
            current = stmt.transaction
        starts.append(len(lines))
        lines += (stmt.sql + ";").splitlines()
    if current:
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n", starts


def run(stmts: list[Statement], server_version: int) -> list[Said]:
    """squawk's findings on ``stmts`` (FileNotFoundError when squawk is not installed)."""
    exe = binary()
    if exe is None:
        raise FileNotFoundError(NOT_INSTALLED)
    if not stmts:
        return []
    text, starts = script(stmts)
    version = f"{server_version // 10000}.0" if server_version else "15.0"
    with tempfile.TemporaryDirectory(prefix="dbops-squawk-") as folder:
        path = Path(folder) / "revision.sql"
        path.write_text(text, encoding="utf-8")
        proc = subprocess.run(
            [exe, "--reporter", "json", "--pg-version", version, "--exclude", ",".join(EXCLUDED), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    try:
        reported = json.loads(proc.stdout or "[]")
    except ValueError:
        raise RuntimeError(f"squawk gave no report (exit {proc.returncode}): {proc.stderr.strip()[:200]}") from None
    out = []
    for item in reported:
        line = int(item.get("line", 0))
        index = max((i for i, start in enumerate(starts) if start <= line), default=0)
        out.append(Said(index, str(item.get("rule_name", "")), str(item.get("message", "")), item.get("help") or ""))
    return out
