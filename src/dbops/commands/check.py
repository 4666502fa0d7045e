"""The check commands: consistency, status, audit, blockers and the round trip."""

from __future__ import annotations

from pathlib import Path

from dbops import lifecycle
from dbops.checks.blockers import scan_blockers
from dbops.checks.consistency import check_project
from dbops.core import database
from dbops.core.catalog import read_catalog
from dbops.core.config import Settings
from dbops.core.errors import FindingsDetected, MigrationError, NotChecked
from dbops.core.findings import CheckResult
from dbops.migrations.roundtrip import RULE as ROUND_TRIP_RULE
from dbops.migrations.roundtrip import round_trip as run_round_trip
from dbops.migrations.scriptdir import project_revision_files
from dbops.migrations.scripts import no_revisions


def require_ok(result: CheckResult) -> CheckResult:
    """``result``, or FindingsDetected (exit 1) when it holds an error finding or a rule that could not run."""
    if not result.ok:
        raise FindingsDetected(result)
    return result


def consistency(
    settings: Settings, live: bool = False, revision: str | None = None, rules: list[str] | None = None
) -> CheckResult:
    """Rules C1-C6 and the blocker scan on a history-built database (or, ``live``, the project's own)."""
    return check_project(settings, lifecycle.target(settings), live=live, revision=revision, rules=rules)


def status(settings: Settings, live: bool = False, revision: str | None = None) -> CheckResult:
    """The "Database Schema" numbers: the result of rules C1, C2 and B."""
    return consistency(settings, live=live, revision=revision, rules=["C1", "C2", "B"])


def audit(settings: Settings, output: Path, revision: str | None = None) -> CheckResult:
    """Write the markdown audit report to ``output``; return the result it shows."""
    from dbops.report import render_audit_markdown

    result = consistency(settings, revision=revision)
    output.parent.mkdir(parents=True, exist_ok=True)
    tgt = lifecycle.target(settings)
    try:
        with lifecycle.database_at(settings, tgt, revision or "head") as history:  # the template consistency built
            models = lifecycle.models_database(settings, tgt.server, like=history)
    except MigrationError:  # the history builds no database (the result says why): the models on their own
        models = lifecycle.models_database(settings, tgt.server)
    with database.connect(models) as conn:
        catalog = read_catalog(conn, settings.tenant_schema or settings.schemas[0], exclude=())
    output.write_text(render_audit_markdown(result, catalog))
    return result


def blockers(settings: Settings) -> CheckResult:
    """The blocker scan of the migration files (no database); TODO markers are warnings, never failing."""
    if not project_revision_files(settings):  # a scan of nothing is not a clean scan
        return CheckResult(rules=["B"], not_checked={"B": no_revisions(settings)})
    found = scan_blockers(settings)
    return CheckResult(findings=found, metrics={"migration_blockers": len(found)}, rules=["B"])


def round_trip(settings: Settings) -> CheckResult:
    """Upgrade base to head, downgrade to base, upgrade again on a throwaway database: what stays behind."""
    try:
        with lifecycle.empty_database(lifecycle.target(settings), "roundtrip") as db:
            found = run_round_trip(settings, db)
    except NotChecked as exc:
        return CheckResult(rules=[ROUND_TRIP_RULE], not_checked={ROUND_TRIP_RULE: exc.message})
    return CheckResult(findings=found, rules=[ROUND_TRIP_RULE])
