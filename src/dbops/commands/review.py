"""The review command: what each new revision will lock, rewrite or break in production, and its report."""

from __future__ import annotations

from dbops.checks.review import Review
from dbops.checks.review import review as run_review
from dbops.core.config import Settings
from dbops.report import render_finding_lines


def review(
    settings: Settings,
    base: str | None = None,
    since: str | None = None,
    everything: bool = False,
    data: str | None = None,
) -> Review:
    """Review the revisions new since ``base`` (or after ``since``, or all) on copies at their parents."""
    # The server is started only when there is something to review (the review asks for it then).
    return run_review(settings, None, base=base, since=since, everything=everything, data=data)


def headline(done: Review) -> str:
    """What was reviewed, in one line."""
    revs = done.selection.revisions
    if not revs:
        return f"nothing to review: no revision among {done.selection.described}"
    seconds = sum(done.seconds.values())
    return (
        f"reviewed {len(revs)} revision(s), {done.statements} statement(s), {done.selection.described}: "
        f"{', '.join(revs)} ({seconds:.2f} s)"
    )


def render(done: Review) -> str:
    """The headline, then one line per finding (accepted ones as warnings) and per rule not checked."""
    clean = "no finding: nothing locks, rewrites, scans or breaks what runs in production"
    return headline(done) + "\n" + render_finding_lines(done.result, clean)
