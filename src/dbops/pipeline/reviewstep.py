"""full-check's review step (phase 3): the revisions new since the base ref, measured on copies at their parents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dbops.checks.review import review
from dbops.checks.review.select import base_commit
from dbops.core.config import Settings
from dbops.pipeline.runner import Outcome
from dbops.report import finding_line, summarize_findings


def step_review(settings: Settings, target: Any) -> Outcome:
    """Review the new revisions; clean when there are none (the history already applied is not judged again)."""
    done = review(settings, target)
    result = done.result
    if not done.selection.revisions and not result.not_checked:
        return Outcome(0, f"nothing new to review: no revision among {done.selection.described}")
    lines = [finding_line(f) for f in result.findings]
    lines += [f"not checked: {rule}: {why}" for rule, why in result.not_checked.items()]
    if result.not_checked:
        why = next(iter(result.not_checked.values()))
        return Outcome(1, f"not checked: {why}", "\n".join(lines))
    if not result.findings:
        return Outcome(0, f"{len(done.selection.revisions)} new revision(s): nothing locks, rewrites or breaks")
    return Outcome(0 if result.ok else 1, summarize_findings(result.findings), "\n".join(lines))


def with_base(settings: Settings, step: dict[str, Any]) -> dict[str, Any]:
    """A cached step's arguments, its key also naming the base commit (a moved base chooses other revisions)."""
    key: Callable[[], str] = step["cache_key"]

    def keyed() -> str:
        found = base_commit(settings.root, None)
        return f"{key()}|{found[1] if found else 'no base'}"

    return {**step, "cache_key": keyed}
