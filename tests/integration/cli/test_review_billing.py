"""Phase 3 on a copy of this project: its applied history passes the review; each classic incident added to it fails."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import REPO, invoke

NEW = '''
"""{doc}"""
import sqlalchemy as sa
from alembic import op

revision = "0012_incident"
down_revision = "0011_outbox_idempotency"


def upgrade() -> None:
    {op}


def downgrade() -> None:
    {undo}
'''
# The four revisions that pass every consistency task and are each a production incident.
INCIDENTS = {
    "set_not_null": (
        'op.alter_column("users", "full_name", existing_type=sa.String(200), nullable=False)',
        'op.alter_column("users", "full_name", existing_type=sa.String(200), nullable=True)',
        "M3-set-not-null",
        "read every row of users under ACCESS EXCLUSIVE on users (measured)",
    ),
    "index": (
        'op.create_index("ix_users_last_login_at", "users", ["last_login_at"])',
        'op.drop_index("ix_users_last_login_at", table_name="users")',
        "M1-index-not-concurrent",
        "took SHARE on users (measured) for the whole build",
    ),
    "bigint": (
        'op.alter_column("auth_throttles", "attempts", type_=sa.BigInteger(), existing_type=sa.Integer())',
        'op.alter_column("auth_throttles", "attempts", type_=sa.Integer(), existing_type=sa.BigInteger())',
        "M4-table-rewrite",
        "rewrote auth_throttles",
    ),
    "rename": (
        'op.alter_column("users", "full_name", new_column_name="display_name")',
        'op.alter_column("users", "display_name", new_column_name="full_name")',
        "M7-breaks-running-code",
        "renamed users.full_name to users.display_name (measured)",
    ),
}


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """This project's committed files in a repository of their own, on a branch named main."""
    root = tmp_path_factory.mktemp("billing-copy")
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    git = ["git", "-c", "user.email=dev@example.test", "-c", "user.name=dev"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "the release"]):
        subprocess.run([*git, *args], cwd=root, check=True, capture_output=True)
    yield root
    invoke("db.stop", "--destroy", cwd=root)


def test_the_applied_history_has_nothing_new_to_review(copy: Path) -> None:
    run = invoke("phase", "3", "--no-cache", cwd=copy)
    assert run.code == 0, run.text
    assert "nothing new to review: no revision among the revisions new since main" in run.out


@pytest.mark.parametrize("name", sorted(INCIDENTS))
def test_each_incident_added_fails_phase_3_with_its_finding(copy: Path, name: str) -> None:
    op, undo, rule, measured = INCIDENTS[name]
    path = copy / "src" / "billing" / "migrations" / "versions" / "0012_incident.py"
    path.write_text(NEW.format(doc=name, op=op, undo=undo))
    try:
        run = invoke("phase", "3", "--no-cache", cwd=copy)
        review = invoke("review", cwd=copy)
    finally:
        path.unlink()
    assert run.code == 1, run.text
    assert "review" in run.out and rule in run.out, run.out
    assert review.code == 1
    assert "M8-no-lock-timeout" not in review.out  # env.py sets lock_timeout for every revision
    [line] = [ln for ln in review.out.splitlines() if f" {rule}: " in ln]
    assert line.startswith("src/billing/migrations/versions/0012_incident.py:11: error ")
    assert measured in line and "(fix: " in line
