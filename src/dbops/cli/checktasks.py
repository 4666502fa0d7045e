"""dbops's check, pipeline and onboarding tasks (collected by :func:`dbops.cli.tasks.namespace`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from dbops.cli.shared import DB_HELP, fail, handled, settings_for
from dbops.core.errors import EXIT_FINDINGS, EXIT_USAGE

# The sprint's phases by number (kept here, not imported from the pipeline, so listing tasks stays light).
PHASE_NUMBERS = (1, 2, 3, 4)

# -- checks and pipelines --------------------------------------------------------------------------
PIPE_HELP = {
    **DB_HELP,
    "fail_fast": "stop starting new steps after the first failure",
    "json": "also write the summary as JSON to this file",
    "junit": "write JUnit XML files into this folder",
    "no_cache": "rerun every step, even those whose inputs are unchanged since they last passed",
}


@task(help={**PIPE_HELP, "keep_server": "in CI (CI set), keep the server this run started instead of stopping it"})
@handled
def full_check(
    c: Context,
    fail_fast: bool = False,
    json: str | None = None,
    junit: str | None = None,
    backend: str | None = None,
    url: str | None = None,
    no_cache: bool = False,
    keep_server: bool = False,
) -> None:
    """Everything before a commit: lint, tests, reset, migrations, blockers, consistency, round trip, smoke."""
    from dbops.commands import run

    code = run.full_check(settings_for(backend, url), fail_fast, json, junit, no_cache, keep_server)
    if code:
        raise Exit(code=code)


@task(help={**PIPE_HELP, "number": "1 consistency tests, 2 migrations, 3 blockers, 4 end-to-end verification"})
@handled
def phase(
    c: Context,
    number: str,
    fail_fast: bool = False,
    json: str | None = None,
    junit: str | None = None,
    backend: str | None = None,
    url: str | None = None,
    no_cache: bool = False,
) -> None:
    """Run one of the sprint's four phases (with the steps it depends on)."""
    # invoke hands positional arguments over as text.
    chosen = int(number) if str(number).isdigit() else 0
    if chosen not in PHASE_NUMBERS:
        raise fail(f"there is no phase {number!r}: use 1, 2, 3 or 4", EXIT_USAGE)
    from dbops.commands import run

    code = run.pipeline(settings_for(backend, url), f"phase {chosen}", chosen, fail_fast, json, junit, no_cache)
    if code:
        raise Exit(code=code)


@task(help={"fix": "apply ruff's fixes and formatting instead of only checking"})
@handled
def lint(c: Context, fix: bool = False) -> None:
    """ruff (format and lint) and mypy, strict on src/."""
    from dbops.commands import run
    from dbops.report import render_failed_outputs

    result = run.lint(settings_for(), fix)
    if result.exit_code:
        print(render_failed_outputs(result), file=sys.stderr)
    if result.exit_code:
        raise Exit(code=result.exit_code)


@task(
    help={
        "integration": "run the integration tests (real PostgreSQL) instead of the unit tests",
        "all": "run unit and integration tests",
        "workers": "pytest-xdist workers (default auto; 0 = no xdist)",
        "k": "only tests matching this expression",
    }
)
@handled
def test(c: Context, integration: bool = False, all: bool = False, workers: str = "auto", k: str | None = None) -> None:
    """Run the unit tests (no database), or --integration, or --all (with the extra_tests folders)."""
    from dbops.commands import run

    s = settings_for()
    sys.exit(subprocess.call(run.pytest_args(s, integration, all, workers, k), cwd=s.root))


# -- onboarding --------------------------------------------------------------------------------------
@task
@handled
def doctor_(c: Context) -> None:
    """Check prerequisites and print what is missing, with the fix."""
    if not _prerequisites():
        raise Exit(code=EXIT_USAGE)


@task(help=DB_HELP)
@handled
def setup(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Onboarding: check prerequisites, create .env, start the database, migrate and seed (idempotent)."""
    if not _prerequisites():
        raise fail("prerequisites missing (see above)", EXIT_USAGE)
    from dbops.commands import doctor

    for line in doctor.setup(settings_for(backend, url)):
        print(line)


# -- consistency -----------------------------------------------------------------------------------
CHECK_HELP = {
    **DB_HELP,
    "format": "text (default) or json",
    "junit": "also write JUnit XML to this file",
    "revision": "check a database built from the history only up to this revision",
    "rules": "comma-separated rule ids or codes (default: all), e.g. C1,C5",
    "live": "check the project's own database (its drift) instead of one built from the migration history",
}
NO_CACHE_HELP = "run every rule even when nothing the last passing verdict depends on changed"


@task(help={**CHECK_HELP, "no_cache": NO_CACHE_HELP})
@handled
def consistency(
    c: Context,
    format: str = "text",
    junit: str | None = None,
    revision: str | None = None,
    rules: str | None = None,
    live: bool = False,
    no_cache: bool = False,
    backend: str | None = None,
    url: str | None = None,
) -> None:
    """Do the migrations produce the models? Rules C1-C6 and the blocker scan on a history-built database."""
    if format not in ("text", "json"):
        raise fail(f"unknown format {format!r}", EXIT_USAGE)
    from dbops import report
    from dbops.commands import verdict

    chosen = rules.split(",") if rules else None
    result, note = verdict.consistency(settings_for(backend, url), live, revision, chosen, no_cache)
    report.emit(result, format, junit)
    if note:
        print(note, file=sys.stdout if format == "text" else sys.stderr)
    if not result.ok:
        from dbops.commands import check

        check.require_ok(result)


@task(help={**DB_HELP, "revision": "measure the history only up to this revision", "live": CHECK_HELP["live"]})
@handled
def status(
    c: Context, revision: str | None = None, live: bool = False, backend: str | None = None, url: str | None = None
) -> None:
    """Print the "Database Schema" numbers: models, tables, missing tables, migration blockers."""
    from dbops import report
    from dbops.commands import check

    result = check.status(settings_for(backend, url), live=live, revision=revision)
    for rule, why in result.not_checked.items():
        print(f"not checked: {rule}: {why}")
    print(report.render_status(result.metrics, result.unmeasured))
    if result.unmeasured or result.not_checked:
        raise Exit(code=EXIT_FINDINGS)  # numbers it could not measure are not a status


@task(
    help={
        **DB_HELP,
        "output": "where to write the markdown report",
        "revision": "audit a throwaway copy migrated only to this revision",
    }
)
@handled
def audit(
    c: Context,
    output: str = "reports/MODELS_AUDIT_REPORT.md",
    revision: str | None = None,
    backend: str | None = None,
    url: str | None = None,
) -> None:
    """Write a markdown audit report: the schema numbers, every finding, and a Mermaid ER diagram."""
    from dbops.commands import check

    path = Path(output)
    result = check.audit(settings_for(backend, url), path, revision)
    print(f"wrote {path} ({len(result.findings)} findings)")


@task(help={"format": "text (default) or json"})
@handled
def blockers(c: Context, format: str = "text") -> None:
    """Scan the migration files for commented-out code, empty downgrades and TODO markers (no database)."""
    from dbops import report
    from dbops.commands import check

    result = check.blockers(settings_for())
    if format == "text":
        print(report.render_finding_lines(result, "no migration blockers"))
    else:
        report.emit(result, format)
    check.require_ok(result)  # TODO markers are warnings: shown, not failing


@task(help=DB_HELP)
@handled
def round_trip(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Upgrade base to head, downgrade to base, upgrade again: name anything a downgrade leaves behind."""
    from dbops import report
    from dbops.commands import check

    result = check.round_trip(settings_for(backend, url))
    print(report.render_finding_lines(result, "round trip clean: every downgrade leaves no trace", severity=False))
    check.require_ok(result)


def _prerequisites() -> bool:
    """Print the doctor's checks; True when every required one passed."""
    from dbops import report
    from dbops.commands import doctor

    checks = doctor.run_doctor(settings_for())
    print(report.render_checks(checks))
    return all(chk.ok for chk in checks if chk.required)
