"""The sprint's starting point, derived from the current tree, gives the status page's numbers and failures."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from test_variants import _clean, _run
from variants import REPO

from dbops.core import database
from dbops.core.dburl import URL
from dbops.core.urls import with_database
from dbops.lifecycle import templates

MISSING = [
    "feature_usage",
    "password_reset_tokens",
    "permissions",
    "role_permissions",
    "roles",
    "subscription_addons",
    "token_balances",
    "token_transactions",
    "user_roles",
]
# Tables that revisions after the sprint's last one (0008_rbac) create.
POST_SPRINT_TABLES = ["auth_throttles", "idempotency_records", "mail_outbox"]
# The status page's "Will Fail at Runtime" list, by the smoke's feature names.
FAILING = ["password reset", "token balance operations", "feature usage rate limiting", "add-on subscriptions", "RBAC"]


def test_sprint_start_status_and_full_check(tmp_path: Path, pg_server: URL) -> None:
    name = f"bv_sprint_{uuid.uuid4().hex[:6]}"
    made = _run(REPO, with_database(pg_server, "unused"), "scenario", "--into", str(tmp_path / "sprint"))
    assert made.returncode == 0, made.stderr
    root = tmp_path / "sprint"
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('database = "billing"', f'database = "{name}"'))
    db = with_database(pg_server, name)
    try:
        status = _run(root, db, "status")
        assert status.returncode == 0, status.stderr
        numbers = {
            k: int(v.split()[0]) for k, v in (ln.split(":", 1) for ln in status.stdout.splitlines() if ":" in ln)
        }
        # The status page's 20 tables, plus what revisions after the sprint add (they follow the sprint start).
        assert numbers["Existing Tables"] == 20 + len(POST_SPRINT_TABLES)
        assert numbers["Missing Tables"] == 9
        assert numbers["Migration Blockers"] == 2

        summary = tmp_path / "summary.json"
        run = _run(root, db, "full-check", "--json", str(summary))
        assert run.returncode == 1
        _clean(run)
        steps = {s["name"]: s for s in json.loads(summary.read_text())["steps"]}
        # Phase 1 names the nine tables...
        assert f"C1-model-table (9): {', '.join(MISSING)}" in steps["consistency"]["summary"]
        # ...phase 3 the two files and their eight lines...
        blockers = steps["blockers"]["summary"]
        assert "B1-commented-code (8)" in blockers
        assert "0002_provider_enum.py:" in blockers and "0003_provider_columns.py:" in blockers
        # ...and phase 4 the features the status page lists as failing.
        smoke = steps["smoke"]
        assert smoke["status"] == "failed"
        failed = {line.split(":", 1)[0].removeprefix("FAIL ").strip() for line in run.stdout.splitlines()}
        assert set(FAILING) <= failed, run.stdout[-3000:]
    finally:
        for leftover in database.list_databases(pg_server, name) + database.list_databases(
            pg_server, f"{templates.TEMPLATE_PREFIX}{name}"
        ):
            database.drop(pg_server, leftover, disposable=(leftover,))
