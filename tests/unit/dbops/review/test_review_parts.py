"""The review's parts that need no database: the offline output read as statements, exceptions, squawk's
script, the rules on measurements, and which revision files are new since a git ref."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dbops.checks.review import allow, rules, squawk
from dbops.checks.review.measure import Measured, Relation, Run, Statement, statements
from dbops.checks.review.select import changed_since
from dbops.core.errors import ConfigError
from dbops.core.findings import ERROR, WARNING, Finding

OFFLINE = [
    {"sql": "BEGIN;\n\n", "line": None},
    {"sql": "CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL\n);\n\n", "line": None},
    {"sql": "-- Running upgrade  -> r1\n\n", "line": None},
    {"sql": "ALTER TABLE users ADD COLUMN x TEXT;\n\n", "line": 12},
    {"sql": "COMMIT;\n\n", "line": None},
    {"sql": "CREATE INDEX CONCURRENTLY ix ON users (x);\n\n", "line": 14},
    {"sql": "BEGIN;\n\n", "line": None},
    {"sql": "INSERT INTO meta.history (version_num) VALUES ('r1');\n\n", "line": None},
    {"sql": "COMMIT;\n\n", "line": None},
]


def test_offline_output_becomes_statements_with_their_transactions_and_no_bookkeeping() -> None:
    stmts, version_tables = statements(OFFLINE)
    assert stmts == [
        Statement("ALTER TABLE users ADD COLUMN x TEXT", 12, True, 1),
        Statement("CREATE INDEX CONCURRENTLY ix ON users (x)", 14, False, 0),
    ]
    assert version_tables == {"alembic_version", "history"}


def test_squawk_reads_the_statements_with_their_transactions_and_lines() -> None:
    stmts, _ = statements(OFFLINE)
    text, starts = squawk.script(stmts)
    assert text.splitlines() == [
        "BEGIN;",
        "ALTER TABLE users ADD COLUMN x TEXT;",
        "COMMIT;",
        "CREATE INDEX CONCURRENTLY ix ON users (x);",
    ]
    assert starts == [1, 3]


def test_allow_comments_and_settings_name_a_rule_and_a_reason(tmp_path: Path) -> None:
    rev = tmp_path / "r1.py"
    rev.write_text("# dbops: allow M1 the table holds 40 rows\n# dbops: allow M3\nx = 1\n")
    assert allow.from_file(rev) == {"M1": "the table holds 40 rows"}  # no reason: no exception
    assert allow.from_settings(("r1:M4-table-rewrite:tiny table", "*:M8:the role sets it", "r2:M1:x"), "r1") == {
        "M4-table-rewrite": "tiny table",
        "M8": "the role sets it",
    }
    with pytest.raises(ConfigError, match="is not REVISION:RULE:REASON"):
        allow.from_settings(("r1:M1",), "r1")
    found = [
        Finding("M1-index-not-concurrent", ERROR, "r1.py:3", "r1: built"),
        Finding("M3-set-not-null", ERROR, "o", "m"),
    ]
    accepted = allow.apply(found, {"M1": "the table holds 40 rows"})
    assert accepted[0].severity == WARNING and accepted[0].message == "accepted (the table holds 40 rows): r1: built"
    assert accepted[1] == found[1]


USERS = Relation(1, "public", "users", "table", "users")
ORGS = Relation(2, "public", "orgs", "table", "orgs")


def _m(sql: str, *locks: tuple[Relation, str], transaction: int = 1, **kw: object) -> Measured:
    return Measured(Statement(sql, 10, bool(transaction), transaction), locks=list(locks), **kw)  # type: ignore[arg-type]


def _rules(*measured: Measured, **ctx: object) -> list[str]:
    context = rules.Context("r1", "r1.py", "r0", **ctx)  # type: ignore[arg-type]
    return sorted(f.rule for f in rules.findings(Run(list(measured)), context))


def test_rules_fire_on_measurements_not_on_spelling() -> None:
    exclusive = "AccessExclusiveLock"
    # An index on a table the revision created: no lock on a table of before, no finding.
    assert _rules(_m("CREATE INDEX ix ON events (at)"), lock_timeout_in_env=True) == []
    assert _rules(_m("CREATE INDEX ix ON users (x)", (USERS, "ShareLock")), lock_timeout_in_env=True) == [
        "M1-index-not-concurrent"
    ]
    # SET NOT NULL proven by a valid CHECK: no scan measured, no finding.
    assert (
        _rules(_m("ALTER TABLE users ALTER COLUMN a SET NOT NULL", (USERS, exclusive)), lock_timeout_in_env=True) == []
    )
    scanned = _m("ALTER TABLE users ALTER COLUMN a SET NOT NULL", (USERS, exclusive), scanned=[USERS])
    assert _rules(scanned, lock_timeout_in_env=True) == ["M3-set-not-null"]
    # Without lock_timeout; then two tables in one transaction: one M9 for the transaction.
    two = [_m(f"ALTER TABLE {t.name} ADD COLUMN b TEXT", (t, exclusive)) for t in (USERS, ORGS, USERS)]
    assert _rules(*two) == ["M8-no-lock-timeout", "M9-many-exclusive-locks"]
    assert _rules(_m("SET lock_timeout = '5s'"), two[0]) == []


def test_a_drop_of_what_this_change_created_breaks_nothing() -> None:
    dropped = _m("ALTER TABLE users DROP COLUMN tmp", dropped=["users.tmp"])
    assert _rules(dropped, lock_timeout_in_env=True) == ["M7-breaks-running-code"]
    assert _rules(dropped, lock_timeout_in_env=True, created={"users.tmp"}) == []
    assert _rules(dropped, lock_timeout_in_env=True, allow_tables=("users",)) == []


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=d@x.test", "-c", "user.name=d", *args], cwd=root, check=True, capture_output=True
    )


def test_new_and_changed_revision_files_since_a_commit(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    old, changed, new = (versions / f"{n}.py" for n in ("r1", "r2", "r3"))
    old.write_text("revision = 'r1'\n")
    changed.write_text("revision = 'r2'\n")
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "base")
    changed.write_text("revision = 'r2'\n# edited\n")
    new.write_text("revision = 'r3'\n")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
    assert changed_since(tmp_path, commit, [old, changed, new]) == {changed, new}
