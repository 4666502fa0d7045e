"""dbops's check, pipeline and onboarding tasks (collected by :func:`dbops.cli.tasks.namespace`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from dbops import lifecycle, migrations, pipeline, report
from dbops.backends import servers
from dbops.backends.base import get_backend
from dbops.cli import DB_HELP, fail, handled, settings_for
from dbops.commands import doctor
from dbops.core.errors import EXIT_USAGE
from dbops.core.urls import mask_url
from dbops.pipeline import steps

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
    settings = settings_for(backend, url)
    # In CI (CI set) the server this run started is stopped at the end, unless --keep-server/DBOPS_KEEP_SERVER.
    with servers.pipeline_server(settings, lambda: get_backend(settings).stop(), keep_server):
        code = steps.run_and_report(settings, "full-check", None, fail_fast, json, junit, no_cache)
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
    if chosen not in pipeline.PHASES:
        raise fail(f"there is no phase {number!r}: use 1, 2, 3 or 4", EXIT_USAGE)
    code = steps.run_and_report(settings_for(backend, url), f"phase {chosen}", chosen, fail_fast, json, junit, no_cache)
    if code:
        raise Exit(code=code)


@task(help={"fix": "apply ruff's fixes and formatting instead of only checking"})
@handled
def lint(c: Context, fix: bool = False) -> None:
    """ruff (format and lint) and mypy, strict on src/."""
    s = settings_for()
    py = sys.executable
    if fix:
        subprocess.run([py, "-m", "ruff", "format", *s.lint_paths], cwd=s.root, check=False)
        subprocess.run([py, "-m", "ruff", "check", "--fix", *s.lint_paths], cwd=s.root, check=False)
    with steps.run_context(s) as ctx:
        chosen = [st for st in steps.build_steps(ctx) if st.name in ("lint", "format", "typecheck")]
        result = pipeline.run_pipeline("lint", chosen, on_event=pipeline.ProgressPrinter())
    for r in result.results:
        if r.status != pipeline.PASSED:
            print(r.output.strip(), file=sys.stderr)
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
    s = settings_for()
    paths = (
        [s.unit_tests, s.integration_tests, *s.extra_tests]
        if all
        else [s.integration_tests if integration else s.unit_tests]
    )
    args = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider"]
    if workers != "0":
        args += ["-n", workers]
    if k:
        args += ["-k", k]
    sys.exit(subprocess.call(args, cwd=s.root))


# -- onboarding --------------------------------------------------------------------------------------
@task
@handled
def doctor_(c: Context) -> None:
    """Check prerequisites and print what is missing, with the fix."""
    if not doctor.print_checks(doctor.run_doctor(settings_for())):
        raise Exit(code=EXIT_USAGE)


@task(help=DB_HELP)
@handled
def setup(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Onboarding: check prerequisites, create .env, start the database, migrate and seed (idempotent)."""
    if not doctor.print_checks(doctor.run_doctor(settings_for())):
        raise fail("prerequisites missing (see above)", EXIT_USAGE)
    settings = settings_for(backend, url)
    env_file, example = settings.root / ".env", settings.root / ".env.example"
    if not env_file.exists() and example.exists():
        shutil.copyfile(example, env_file)
        print("created .env from .env.example")
    tgt = lifecycle.target(settings)
    db = lifecycle.ensure_database(tgt)
    migrations.upgrade(settings, db, "head")
    lifecycle.seed(settings, db)
    print(f"ready: {mask_url(db)} at {migrations.current(settings, db)}")


# -- consistency -----------------------------------------------------------------------------------
CHECK_HELP = {
    **DB_HELP,
    "format": "text (default) or json",
    "junit": "also write JUnit XML to this file",
    "revision": "check a database built from the history only up to this revision",
    "rules": "comma-separated rule ids or codes (default: all), e.g. C1,C5",
    "live": "check the project's own database (its drift) instead of one built from the migration history",
}


@task(help=CHECK_HELP)
@handled
def consistency(
    c: Context,
    format: str = "text",
    junit: str | None = None,
    revision: str | None = None,
    rules: str | None = None,
    live: bool = False,
    backend: str | None = None,
    url: str | None = None,
) -> None:
    """Do the migrations produce the models? Rules C1-C6 and the blocker scan on a history-built database."""
    from dbops.checks.consistency import check_project

    if format not in ("text", "json"):
        raise fail(f"unknown format {format!r}", EXIT_USAGE)
    settings = settings_for(backend, url)
    chosen = rules.split(",") if rules else None
    result = check_project(settings, lifecycle.target(settings), live=live, revision=revision, rules=chosen)
    report.emit(result, format, junit)
    if not result.ok:
        raise Exit(code=1)


@task(help={**DB_HELP, "revision": "measure the history only up to this revision", "live": CHECK_HELP["live"]})
@handled
def status(
    c: Context, revision: str | None = None, live: bool = False, backend: str | None = None, url: str | None = None
) -> None:
    """Print the "Database Schema" numbers: models, tables, missing tables, migration blockers."""
    from dbops.checks.consistency import check_project

    settings = settings_for(backend, url)
    result = check_project(settings, lifecycle.target(settings), live=live, revision=revision, rules=["C1", "C2", "B"])
    print(report.render_status(result.metrics))


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
    from dbops.checks.consistency import check_project
    from dbops.core.config import import_object

    settings = settings_for(backend, url)
    result = check_project(settings, lifecycle.target(settings), revision=revision)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.render_audit_markdown(result, import_object(settings.metadata, "metadata")))
    print(f"wrote {path} ({len(result.findings)} findings)")


@task(help={"format": "text (default) or json"})
@handled
def blockers(c: Context, format: str = "text") -> None:
    """Scan the migration files for commented-out code, empty downgrades and TODO markers (no database)."""
    from dbops.checks.blockers import scan_blockers
    from dbops.core.findings import CheckResult

    found = scan_blockers(settings_for())
    if format == "text":
        for f in found:
            print(f"{f.object}: {f.severity} {f.rule}: {f.message} (fix: {f.hint})")
        print(f"{len(found)} finding(s)" if found else "no migration blockers")
    else:
        report.emit(CheckResult(findings=found, metrics={"migration_blockers": len(found)}, rules=["B"]), format)
    if any(f.severity == "error" for f in found):  # TODO markers are warnings: shown, not failing
        raise Exit(code=1)


@task(help=DB_HELP)
@handled
def round_trip(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Upgrade base to head, downgrade to base, upgrade again: name anything a downgrade leaves behind."""
    from dbops.migrations.roundtrip import round_trip as run_round_trip

    settings = settings_for(backend, url)
    with lifecycle.empty_database(lifecycle.target(settings), "roundtrip") as db:
        found = run_round_trip(settings, db)
    for f in found:
        print(f"{f.object}: {f.rule}: {f.message} (fix: {f.hint})")
    print(f"{len(found)} finding(s)" if found else "round trip clean: every downgrade leaves no trace")
    if found:
        raise Exit(code=1)
