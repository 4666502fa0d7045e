"""The review task (collected by :func:`dbops.cli.tasks.namespace`)."""

from __future__ import annotations

import sys

from invoke.context import Context
from invoke.tasks import task

from dbops.cli.shared import DB_HELP, fail, handled, settings_for
from dbops.core.errors import EXIT_USAGE


@task(
    help={
        **DB_HELP,
        "base": "review the revision files new or changed since this git ref (default origin/main, else main, "
        "else the newest revision)",
        "since": "review the revisions after this revision instead",
        "all": "review every revision",
        "data": "seed (the seeded database at each parent) or dev (a copy of your database); default: no rows",
        "format": "text (default) or json",
        "junit": "also write JUnit XML to this file",
    }
)
@handled
def review(
    c: Context,
    base: str | None = None,
    since: str | None = None,
    all: bool = False,
    data: str | None = None,
    format: str = "text",
    junit: str | None = None,
    backend: str | None = None,
    url: str | None = None,
) -> None:
    """What each new revision will lock, rewrite or break in production, measured on copies of the database."""
    if format not in ("text", "json"):
        raise fail(f"unknown format {format!r}: use --format text or --format json", EXIT_USAGE)
    if data not in (None, "seed", "dev"):
        raise fail(f"unknown --data {data!r}: use --data seed or --data dev", EXIT_USAGE)
    if sum(bool(x) for x in (base, since, all)) > 1:
        raise fail("--base, --since and --all choose the revisions in different ways: give one", EXIT_USAGE)
    from dbops import report
    from dbops.commands import check
    from dbops.commands import review as command

    done = command.review(settings_for(backend, url), base=base, since=since, everything=all, data=data)
    if format == "json":
        print(report.render_json(done.result))
        print(command.headline(done), file=sys.stderr)
    else:
        print(command.render(done))
    if junit:
        report.render_junit(done.result, junit)
    check.require_ok(done.result)
