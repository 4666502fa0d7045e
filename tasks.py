"""invoke tasks: thin entry points over the dbops library (`invoke --list`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from invoke import Collection, Context, Exit, task

from dbops import doctor, lifecycle, migrations, pipeline, report, servers, steps
from dbops.backends.base import get_backend
from dbops.cli import fail, handled, settings_for
from dbops.errors import EXIT_USAGE
from dbops.urls import libpq_url, mask_url, plain_url

BACKEND_HELP = "url, embedded (default without DATABASE_URL) or docker"
URL_HELP = "database server URL (default: DATABASE_URL)"
DB_HELP = {"backend": BACKEND_HELP, "url": URL_HELP}


# -- database lifecycle ----------------------------------------------------------------------------
@task(
    help={
        **DB_HELP,
        "revision": "migrate to this revision instead of head",
        "no_seed": "skip the seed data",
        "naive": "drop, create and migrate without the template cache",
    }
)
@handled
def reset_db(
    c: Context,
    backend: str | None = None,
    url: str | None = None,
    revision: str = "head",
    no_seed: bool = False,
    naive: bool = False,
) -> None:
    """Drop and recreate the database, migrate it to head and seed it (refuses non-local hosts)."""
    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings, will_drop=True)
    result = lifecycle.reset(settings, tgt, revision=revision, with_seed=not no_seed, use_template=not naive)
    print(
        f"reset {mask_url(result.url)} to {revision} ({result.strategy}, {result.seconds:.2f} s"
        f"{', seeded' if result.seeded else ''})"
    )


@task(help=DB_HELP)
@handled
def seed(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Load the reference data (plans, features, add-ons, bundles, roles, demo admin); idempotent."""
    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings)
    if not lifecycle.seed(settings, tgt.url):
        raise fail("no seed configured", EXIT_USAGE)
    print(f"seeded {mask_url(tgt.url)}")


@task(help={**DB_HELP, "revision": "target revision (default head)"}, default=True)
@handled
def migrate_up(c: Context, backend: str | None = None, url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database to head, or to --revision."""
    settings = settings_for(backend, url)
    db_url = lifecycle.ensure_database(lifecycle.target(settings))
    migrations.upgrade(settings, db_url, revision)
    print(f"{mask_url(db_url)} is at {migrations.current(settings, db_url) or 'base'}")


@task(help={**DB_HELP, "revision": "revision to go down to (e.g. -1, base, 0003_provider_columns)"})
@handled
def migrate_down(c: Context, revision: str, backend: str | None = None, url: str | None = None) -> None:
    """Downgrade the database to --revision."""
    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings)
    migrations.downgrade(settings, tgt.url, revision)
    print(f"{mask_url(tgt.url)} is at {migrations.current(settings, tgt.url) or 'base'}")


@task(help=DB_HELP)
@handled
def migrate_current(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Print the database's current revision."""
    settings = settings_for(backend, url)
    print(migrations.current(settings, lifecycle.ensure_database(lifecycle.target(settings))) or "base")


@task
@handled
def migrate_history(c: Context) -> None:
    """List the revisions from base to head."""
    for rev, down, doc in migrations.history(settings_for()):
        print(f"{down or 'base'} -> {rev}  {doc}")


@task(help={**DB_HELP, "message": "what the revision does", "empty": "an empty revision, no autogenerate"})
@handled
def migrate_new(
    c: Context, message: str, backend: str | None = None, url: str | None = None, empty: bool = False
) -> None:
    """Autogenerate a new revision from the models (the database is brought to head first)."""
    settings = settings_for(backend, url)
    db_url = lifecycle.ensure_database(lifecycle.target(settings))
    migrations.upgrade(settings, db_url, "head")
    print(f"created {migrations.new_revision(settings, db_url, message, autogenerate=not empty)}")


@task(help=DB_HELP)
@handled
def db_up(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Start (or reach) the database server and print its URL, password masked."""
    settings = settings_for(backend, url)
    print(mask_url(lifecycle.target(settings).url))


@task(
    help={
        "backend": BACKEND_HELP,
        "destroy": "also delete the embedded cluster's data",
        "all_orphans": "stop every dbops server on this machine whose checkout is gone, and delete its data",
    }
)
@handled
def db_stop(c: Context, backend: str | None = None, destroy: bool = False, all_orphans: bool = False) -> None:
    """Stop the server dbops started (embedded cluster or Docker container), or --all-orphans on the machine."""
    if all_orphans:
        gone = servers.reap(include_stale=True)
        for container in servers.docker_orphans():  # labelled containers the registry does not know
            if servers.remove_container(container.container):
                gone.append(container)
        for server in gone:
            print(f"stopped orphan: {servers.describe(server)}")
        print(f"{len(gone)} orphaned server(s) stopped")
        return
    settings = settings_for(backend)
    be = get_backend(settings)
    stopped = be.stop()
    if destroy and hasattr(be, "destroy"):
        be.destroy()
    print(f"{be.name}: {'stopped' if stopped else 'was not running'}{', data deleted' if destroy else ''}")


@task(help={**DB_HELP, "show_password": "print the password too (careful: it ends up in your terminal history)"})
@handled
def db_url(c: Context, backend: str | None = None, url: str | None = None, show_password: bool = False) -> None:
    """Print the database URL (password masked unless --show-password)."""
    db = lifecycle.target(settings_for(backend, url)).url
    print(libpq_url(db) if show_password else mask_url(db.set(drivername="postgresql")))


@task(help={**DB_HELP, "all": "list every dbops server on this machine, its owner and whether it is orphaned"})
@handled
def db_status(c: Context, backend: str | None = None, url: str | None = None, all: bool = False) -> None:
    """Say which backend is in use and whether its server runs (--all: every dbops server on the machine)."""
    if all:
        listed = servers.entries()
        for server in listed:
            print(servers.describe(server))
        print(f"{len(listed)} dbops server(s) recorded in {servers.registry_dir()}")
        return
    print(get_backend(settings_for(backend, url)).status())


@task(help=DB_HELP)
@handled
def db_shell(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Open psql on the database."""
    if not shutil.which("psql"):
        raise fail("psql is not installed", EXIT_USAGE)
    db = lifecycle.ensure_database(lifecycle.target(settings_for(backend, url)))
    # The password travels in the environment, not on the command line where ps would show it.
    env = {**os.environ, "PGPASSWORD": db.password or ""}
    sys.exit(subprocess.call(["psql", libpq_url(db.set(password=None))], env=env))


@task(help={"host": "interface to bind", "port": "port", **DB_HELP})
@handled
def api(
    c: Context, host: str = "127.0.0.1", port: int = 8000, backend: str | None = None, url: str | None = None
) -> None:
    """Run the billing HTTP API locally with uvicorn against the project's database."""
    import uvicorn

    db = lifecycle.ensure_database(lifecycle.target(settings_for(backend, url)))
    os.environ["DATABASE_URL"] = plain_url(db)
    uvicorn.run("billing.api.app:create_app", factory=True, host=host, port=port)


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
    with servers.pipeline_server(settings, keep_server):
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
    """Run the unit tests (no database), or --integration, or --all."""
    s = settings_for()
    paths = [s.unit_tests, s.integration_tests] if all else [s.integration_tests if integration else s.unit_tests]
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


@task(help={"force": "replace an existing pre-commit hook that is not ours"})
@handled
def hooks_install(c: Context, force: bool = False) -> None:
    """Install a git pre-commit hook that runs the fast checks (bin/pre-commit-check.sh)."""
    settings = settings_for()
    hook = settings.root / ".git" / "hooks" / "pre-commit"
    body = "#!/bin/sh\n# installed by invoke hooks.install\nexec bin/pre-commit-check.sh\n"
    if hook.exists() and hook.read_text() != body and not force:
        raise fail(f"{hook} exists and is not ours", EXIT_USAGE)
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(body)
    hook.chmod(0o755)
    print(f"installed {hook}")


# -- consistency -----------------------------------------------------------------------------------
CHECK_HELP = {
    **DB_HELP,
    "format": "text (default) or json",
    "junit": "also write JUnit XML to this file",
    "revision": "check a throwaway copy of the database migrated only to this revision",
    "rules": "comma-separated rule ids or codes (default: all), e.g. C1,C5",
}


@task(help=CHECK_HELP)
@handled
def consistency(
    c: Context,
    format: str = "text",
    junit: str | None = None,
    revision: str | None = None,
    rules: str | None = None,
    backend: str | None = None,
    url: str | None = None,
) -> None:
    """Compare models, migrations and the database (rules C1-C6 and the blocker scan); exit 1 on findings."""
    from dbops.checks import run_checks

    if format not in ("text", "json"):
        raise fail(f"unknown format {format!r}", EXIT_USAGE)
    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings)
    with lifecycle.database_at(settings, tgt, revision) as db:
        result = run_checks(settings, db, rules=rules.split(",") if rules else None)
    report.emit(result, format, junit)
    if not result.ok:
        raise Exit(code=1)


@task(help={**DB_HELP, "revision": "measure a throwaway copy migrated only to this revision"})
@handled
def status(c: Context, revision: str | None = None, backend: str | None = None, url: str | None = None) -> None:
    """Print the live "Database Schema" numbers: models, tables, missing tables, migration blockers."""
    from dbops.checks import run_checks

    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings)
    with lifecycle.database_at(settings, tgt, revision) as db:
        result = run_checks(settings, db, rules=["C1", "C2", "B"])
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
    from dbops.checks import run_checks
    from dbops.config import import_object

    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings)
    with lifecycle.database_at(settings, tgt, revision) as db:
        result = run_checks(settings, db)
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.render_audit_markdown(result, import_object(settings.metadata, "metadata")))
    print(f"wrote {path} ({len(result.findings)} findings)")


@task(help={"format": "text (default) or json"})
@handled
def blockers(c: Context, format: str = "text") -> None:
    """Scan the migration files for commented-out code, empty downgrades and TODO markers (no database)."""
    from dbops.blockers import scan_blockers
    from dbops.findings import CheckResult

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
    from dbops.roundtrip import round_trip as run_round_trip

    settings = settings_for(backend, url)
    with lifecycle.empty_database(lifecycle.target(settings), "roundtrip") as db:
        found = run_round_trip(settings, db)
    for f in found:
        print(f"{f.object}: {f.rule}: {f.message} (fix: {f.hint})")
    print(f"{len(found)} finding(s)" if found else "round trip clean: every downgrade leaves no trace")
    if found:
        raise Exit(code=1)


ns = Collection(
    reset_db, seed, api, full_check, phase, lint, test, setup, consistency, status, audit, blockers, round_trip
)
ns.add_task(doctor_, name="doctor")
ns.add_collection(
    Collection(
        "migrate", up=migrate_up, down=migrate_down, current=migrate_current, history=migrate_history, new=migrate_new
    )
)
ns.add_collection(Collection("hooks", install=hooks_install))
ns.add_collection(Collection("db", up=db_up, stop=db_stop, url=db_url, status=db_status, shell=db_shell))
