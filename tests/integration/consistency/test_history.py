"""C6 proven able to fail: bogus stamp, database behind head, two heads, two bases, duplicate ids, broken links."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from dbops import migrations
from dbops.checks import run_checks
from dbops.core.config import Settings
from dbops.core.dburl import URL

EMPTY_REVISION = '''
"""An extra revision for the test.

Revision ID: {rev}
"""

revision = "{rev}"
down_revision = {down}


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
'''


def history(settings: Settings, url: URL) -> list[tuple[str, str]]:
    """(object, message) of every C6 finding."""
    return [(f.object, f.message) for f in run_checks(settings, url, rules=["C6"]).findings]


def test_head_is_clean(mini_project: Settings, mini_db: URL) -> None:
    assert history(mini_project, mini_db) == []


def test_bogus_stamp(mini_project: Settings, mini_db: URL, run_sql: Callable[..., None]) -> None:
    run_sql(mini_db, "UPDATE alembic_version SET version_num = 'bogus_0042'")
    found = run_checks(mini_project, mini_db, rules=["C6"]).findings
    assert [f.object for f in found] == ["bogus_0042"]
    assert "no migration file defines" in found[0].message
    assert "alembic stamp 0003_tags" in found[0].hint


def test_behind_head_lists_pending(mini_project: Settings, mini_empty: URL) -> None:
    migrations.upgrade(mini_project, mini_empty, "0001_authors")
    found = run_checks(mini_project, mini_empty, rules=["C6"]).findings
    assert [f.object for f in found] == ["0001_authors"]
    assert found[0].message.endswith("pending revisions 0002_books, 0003_tags")
    assert found[0].hint == "dbops migrate"


def test_at_base(mini_project: Settings, mini_empty: URL) -> None:
    found = history(mini_project, mini_empty)
    assert found == [
        ("base", "the database is at base, head is 0003_tags: pending revisions 0001_authors, 0002_books, 0003_tags")
    ]


def test_two_heads(mini_project: Settings, mini_db: URL, add_revision: Callable[[str, str], Path]) -> None:
    add_revision("0004_a.py", EMPTY_REVISION.format(rev="0004_a", down='"0003_tags"'))
    add_revision("0004_b.py", EMPTY_REVISION.format(rev="0004_b", down='"0003_tags"'))
    objects = [obj for obj, _ in history(mini_project, mini_db)]
    assert objects == ["0003_tags", "0004_a,0004_b"]
    assert "the history has 2 heads: 0004_a, 0004_b" in dict(history(mini_project, mini_db))["0004_a,0004_b"]


def test_two_bases(mini_project: Settings, mini_db: URL, add_revision: Callable[[str, str], Path]) -> None:
    add_revision("0099_other.py", EMPTY_REVISION.format(rev="0099_other", down="None"))
    found = dict(history(mini_project, mini_db))
    assert "the history has 2 bases" in found["0001_authors,0099_other"]
    assert "the history has 2 heads" in found["0003_tags,0099_other"]


def test_duplicate_revision_id(mini_project: Settings, mini_db: URL) -> None:
    versions = mini_project.root / "migrations" / "versions"
    shutil.copy(versions / "0003_tags.py", versions / "0003_tags_copy.py")
    found = dict(history(mini_project, mini_db))
    assert list(found) == ["0003_tags"]
    assert (
        "declared by both migrations/versions/0003_tags.py and migrations/versions/0003_tags_copy.py"
        in found["0003_tags"]
    )


def test_revision_pointing_at_missing_revision(
    mini_project: Settings, mini_db: URL, add_revision: Callable[[str, str], Path]
) -> None:
    add_revision("0005_lost.py", EMPTY_REVISION.format(rev="0005_lost", down='"0004_never_written"'))
    found = run_checks(mini_project, mini_db, rules=["C6"]).findings
    assert len(found) == 1
    assert found[0].object in ("0005_lost", "history")
    assert "0004_never_written" in found[0].message
