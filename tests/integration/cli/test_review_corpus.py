"""`invoke review` on the corpus: every hazard gets its finding, measured, with a fix; every safe spelling gets none."""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import psycopg
from cli_support import invoke
from review_corpus import CASES, case, corpus_project, write_case

SEED = '''
"""Rows for the review with data: one user without a name."""
import sqlalchemy as sa


def seed(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO orgs (id, name) VALUES (1, 'acme')"))
        conn.execute(
            sa.text(
                "INSERT INTO users (id, full_name, email, n) "
                "SELECT g, CASE WHEN g = 7 THEN NULL ELSE 'user ' || g END, 'u' || g || '@x.test', g "
                "FROM generate_series(1, 2000) AS g"
            )
        )
    engine.dispose()
'''


def _review(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    run = invoke("review", "--format", "json", *args, cwd=root, env={"PYTHONPATH": str(root)})
    assert "Traceback" not in run.text, run.text
    return run.code, json.loads(run.out), run.err


def _by_revision(result: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Findings grouped by the revision file they point at."""
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for f in result["findings"]:
        out[Path(f["object"].split(":")[0]).stem].append(f)
    return out


def test_every_hazard_is_found_measured_with_a_fix_and_no_safe_spelling_is(tmp_path: Path) -> None:
    root = corpus_project(tmp_path / "corpus")
    code, result, err = _review(root, "--all")
    assert code == 1 and not result["ok"]
    assert result["not_checked"] == []
    found = _by_revision(result)
    verdicts = {c.name: sorted({f["rule"] for f in found.get(c.name, [])}) for c in CASES}
    assert verdicts == {c.name: sorted(c.expected) for c in CASES}
    assert not found.get("r0"), "tables a revision creates are nobody's to wait for"
    assert f"reviewed {len(CASES) + 1} revision(s)" in err
    for f in result["findings"]:
        assert f["hint"], f
        assert "measured" in f["message"] or "squawk:" in f["message"], f
        assert f["object"].endswith(tuple(f".py:{n}" for n in range(9, 20))), f  # the line of the op call
    # The accepted hazard is a warning with its reason; nothing else is.
    assert [(f["rule"], f["severity"]) for f in found["accepted_index"]] == [("M1-index-not-concurrent", "warning")]
    assert "accepted (orgs holds a few hundred rows" in found["accepted_index"][0]["message"]
    assert all(f["severity"] == "error" for name, fs in found.items() if name != "accepted_index" for f in fs)
    # What each finding says it measured.
    messages = {name: " ".join(f["message"] for f in fs) for name, fs in found.items()}
    assert "took SHARE on users (measured)" in messages["index_plain"]
    assert "read every row of users under ACCESS EXCLUSIVE on users (measured)" in messages["set_not_null"]
    assert "rewrote users and 2 of its indexes (new relfilenode, measured)" in messages["type_rewrite"]
    assert "renamed users.full_name to users.display_name (measured)" in messages["rename_column"]


def test_a_revision_taking_access_exclusive_without_lock_timeout(tmp_path: Path) -> None:
    root = corpus_project(
        tmp_path / "no_timeout",
        [case("nullable_column", 'op.add_column("users", sa.Column("x", sa.Text))')],
        lock_timeout=False,
    )
    code, result, _ = _review(root, "--since", "r0", "--junit", str(tmp_path / "review.xml"))
    assert code == 1
    junit = (tmp_path / "review.xml").read_text()
    assert '<failure message="migrations/versions/nullable_column.py:' in junit and 'type="M8-no-lock-timeout"' in junit
    [finding] = result["findings"]
    assert finding["rule"] == "M8-no-lock-timeout"
    assert "takes ACCESS EXCLUSIVE on users (measured) with no lock_timeout set" in finding["message"]
    assert "SET LOCAL lock_timeout" in finding["hint"]


def test_with_the_seed_a_statement_fails_on_existing_rows_and_is_timed_per_thousand_rows(tmp_path: Path) -> None:
    cases = [
        case("set_not_null", 'op.alter_column("users", "full_name", nullable=False)', "M11-fails-on-data"),
        case("index_plain", 'op.create_index("ix_users_n", "users", ["n"])', "M1-index-not-concurrent"),
    ]
    root = corpus_project(tmp_path / "seeded", cases, extra='seed = "seedmod:seed"')
    (root / "seedmod.py").write_text(SEED)
    code, result, _ = _review(root, "--since", "r0", "--data", "seed")
    assert code == 1
    found = _by_revision(result)
    [failed] = found["set_not_null"]
    assert failed["rule"] == "M11-fails-on-data"
    assert (
        "failed on the existing rows of the copy (measured)" in failed["message"] and "null values" in failed["message"]
    )
    [index] = found["index_plain"]
    assert "per 1000 rows of 2000 rows in users" in index["message"]
    # Without data the same NOT NULL is a scan, not a failure.
    code, result, _ = _review(root, "--since", "r0")
    assert {f["rule"] for f in _by_revision(result)["set_not_null"]} == {"M3-set-not-null"}


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=dev@example.test", "-c", "user.name=dev", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_by_default_only_the_revisions_new_since_main_are_reviewed(tmp_path: Path) -> None:
    shipped = case("index_plain", 'op.create_index("ix_users_n", "users", ["n"])', "M1-index-not-concurrent")
    root = corpus_project(tmp_path / "gitted", [shipped])
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "shipped")
    code, result, err = _review(root)
    assert code == 0 and result["findings"] == [], "main's history is not judged again"
    assert "nothing to review" in err
    # One change: a column added, then dropped again before any release used it (no M7), and a rename of
    # a column the release maps (M7).
    versions = root / "migrations" / "versions"
    write_case(versions, case("add_tmp", 'op.add_column("users", sa.Column("tmp", sa.Text))', down="index_plain"))
    write_case(versions, case("drop_tmp", 'op.drop_column("users", "tmp")', down="add_tmp"))
    write_case(versions, case("rename", 'op.alter_column("users", "email", new_column_name="mail")', down="drop_tmp"))
    code, result, err = _review(root)
    assert code == 1
    assert "reviewed 3 revision(s)" in err and "new since main" in err
    assert {stem: sorted(f["rule"] for f in fs) for stem, fs in _by_revision(result).items()} == {
        "rename": ["M7-breaks-running-code"]
    }


def test_bad_choices_are_one_line_and_exit_2(tmp_path: Path) -> None:
    root = corpus_project(tmp_path / "bad", [])
    for args, said in (
        (["--data", "prod"], "unknown --data 'prod': use --data seed or --data dev"),
        (["--base", "no-such-ref"], "--base 'no-such-ref' is not a commit git knows here"),
        (["--since", "r9"], "--since 'r9' is not a revision of this history"),
        (["--all", "--since", "r0"], "--base, --since and --all choose the revisions in different ways"),
    ):
        run = invoke("review", *args, cwd=root)
        assert run.code == 2, run.text
        assert said in run.err and "Traceback" not in run.text


def test_with_the_developers_database_a_copy_is_measured_and_the_database_is_left_alone(tmp_path: Path) -> None:
    root = corpus_project(tmp_path / "dev", [])
    assert invoke("reset-db", "--no-seed", "--yes", cwd=root, env={"PYTHONPATH": str(root)}).code == 0
    url = invoke("db.url", "--show-password", cwd=root).out.strip().rsplit("/", 1)[0] + "/tiny"
    rows = (
        "INSERT INTO users (id, full_name) "
        "SELECT g, CASE WHEN g = 3 THEN NULL ELSE 'x' END FROM generate_series(1, 1500) g"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(rows)
    write_case(
        root / "migrations" / "versions", case("set_not_null", 'op.alter_column("users", "full_name", nullable=False)')
    )
    code, result, _ = _review(root, "--since", "r0", "--data", "dev")
    assert code == 1
    [failed] = result["findings"]
    assert failed["rule"] == "M11-fails-on-data" and "contains null values" in failed["message"]
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*), count(full_name) FROM users").fetchone() == (1500, 1499)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("r0",)]


def test_a_revision_alembic_cannot_emit_offline_is_run_online_and_says_what_was_not_measured(tmp_path: Path) -> None:
    reads = case(
        "reads_rows",
        """
        if op.get_bind().execute(sa.text("SELECT count(*) FROM users")).scalar() == 0:
            op.drop_column("users", "email")
        """,
    )
    root = corpus_project(tmp_path / "online", [reads])
    code, result, _ = _review(root, "--since", "r0")
    assert code == 1
    by_rule = {f["rule"]: f for f in result["findings"]}
    assert set(by_rule) == {"M0-not-measured", "M7-breaks-running-code"}
    assert by_rule["M0-not-measured"]["severity"] == "warning"
    assert (
        "locks and scans not measured: Alembic could not emit its SQL offline" in by_rule["M0-not-measured"]["message"]
    )
    assert "dropped users.email (measured)" in by_rule["M7-breaks-running-code"]["message"]
