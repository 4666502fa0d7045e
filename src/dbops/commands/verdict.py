"""`consistency`'s answer, reused while nothing it depends on changed: a remembered verdict loads no checks."""

from __future__ import annotations

from dbops.cache.store import Hit, verdict_entry
from dbops.core.config import Settings
from dbops.core.findings import CheckResult


def consistency(
    settings: Settings,
    live: bool = False,
    revision: str | None = None,
    rules: list[str] | None = None,
    no_cache: bool = False,
) -> tuple[CheckResult, str | None]:
    """Rules C1-C6 and the blocker scan (:func:`dbops.commands.check.consistency`); the line saying it was reused."""
    if live:  # the project's own database changes outside any file: never remembered
        from dbops.commands import check

        return check.consistency(settings, live=True, rules=rules), None
    entry = None if no_cache else verdict_entry(settings, rules, revision)
    hit = entry.lookup() if entry is not None else None
    if hit is None:
        from dbops import lifecycle
        from dbops.checks.consistency import history_verdict

        target = lambda: lifecycle.target(settings)  # noqa: E731 - reached only when the rules run
        result, hit = history_verdict(settings, target, revision=revision, rules=rules, fresh=True, entry=entry)
        return result, None
    return CheckResult.from_dict(hit.result), remembered_line(CheckResult.from_dict(hit.result), hit)


def remembered_line(result: CheckResult, hit: Hit) -> str:
    """`consistency: clean (remembered: nothing it depends on changed since 12:03; ...)`."""
    said = "clean" if not result.findings else f"{len(result.findings)} finding(s), none failing"
    return f"consistency: {said} ({hit.note}; --no-cache runs every rule)"
