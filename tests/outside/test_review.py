"""`review --all` on every outside project: no false finding; what it finds is each project's accepted practice."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from outside_cases import CASES, Case
from outside_support import extensions_created

from dbops import lifecycle
from dbops.checks.review import review
from dbops.core.config import Settings
from dbops.core.dburl import URL

# Per project: the rule each review finding comes from, and why the project accepts it. Everything else is clean.
PRACTICE = {
    "baseline_dump": {
        "M8-no-lock-timeout": "0002_note adds a nullable column without lock_timeout: deployed with no traffic",
    },
    "irreversible": {
        "M8-no-lock-timeout": "0002_status and 0003_note add columns without lock_timeout: a batch tool's "
        "database, migrated while it is stopped",
    },
    "broken_downgrade": {
        "M8-no-lock-timeout": "0002_weight adds a nullable column without lock_timeout: deployed with no traffic",
    },
    "broken_rename": {
        "M7-breaks-running-code": "0002_rename renames customer to customers in one step: the running code breaks "
        "(the project's own defect is its downgrade; the rename is accepted as a stop-the-world release)",
        "M8-no-lock-timeout": "the rename takes ACCESS EXCLUSIVE without lock_timeout, as above",
    },
}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_review_all_finds_only_the_accepted_practice(
    case: Case,
    outside_project: Callable[[str], tuple[Case, Settings]],
    pg_server: URL,
    needs_extensions: Callable[..., None],
) -> None:
    _, settings = outside_project(case.name)
    needs_extensions(*extensions_created(settings.root))
    done = review(settings, lifecycle.Target(pg_server, settings.database), everything=True)
    result = done.result
    if case.name == "empty":
        assert not done.selection.revisions and "no revision found" in result.not_checked["M0-not-measured"]
        return
    assert result.not_checked == {}
    assert done.selection.revisions, "every revision is reviewed"
    assert {f.rule for f in result.findings} == set(PRACTICE.get(case.name, {}))
    assert all(f.severity == "error" and "(measured)" in f.message for f in result.findings)
