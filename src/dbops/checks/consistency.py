"""What `consistency`, `status` and full-check's consistency step report, on a database built from the history.

"Do my migrations produce my models?" needs nothing prepared: by default the models are compared
with a clone of a template that the migration history alone built (cached, rebuilt when the
history or the models change), so the answer is the same on a fresh clone, in CI and on a laptop,
whatever state the developer's own database is in. ``live=True`` checks the project's own database
instead (the drift of a dev or staging database). The rules that need no database (the history's
shape, the blocker scan) always run; when no database can be built, the result still carries their
findings and says, per rule, what was not checked and why.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence

from dbops import lifecycle
from dbops.cache.store import Entry, Hit, verdict_entry
from dbops.checks.blockers import scan_blockers
from dbops.checks.engine import Rule, run_checks, select_rules
from dbops.core import database
from dbops.core.catalog import read_catalog
from dbops.core.config import Settings
from dbops.core.errors import DbopsError, HistoryBroken, MigrationError, ModelsUnbuilt
from dbops.core.findings import ERROR, CheckResult, Finding, sort_key
from dbops.migrations.history_scan import RULE as HISTORY_RULE
from dbops.migrations.history_scan import check_files, history_failure
from dbops.migrations.scriptdir import project_revision_files

DB_FREE_CODES = ("B",)


def _history(settings: Settings) -> HistoryBroken | None:
    """The history scan (no database needed): what stops a database being built from it, if anything."""
    try:
        check_files(settings, project_revision_files(settings))
    except HistoryBroken as exc:
        return exc
    return None


def _static(settings: Settings, codes: set[str], broken: HistoryBroken | None) -> list[Finding]:
    """When no database can be built: the history's findings and the blocker scan (when selected)."""
    findings = list(broken.findings) if broken else []
    if "B" in codes:
        findings += scan_blockers(settings)
    return findings


def _model_count(settings: Settings, tgt: lifecycle.Target) -> int | None:
    """How many tables the models build (None when they cannot be built: that is said elsewhere)."""
    try:
        url = lifecycle.models_database(settings, tgt.server)
        with database.connect(url) as conn:
            return len(read_catalog(conn, settings.tenant_schema or settings.schemas[0], exclude=())["tables"])
    except DbopsError:
        return None


def _unbuilt(
    settings: Settings,
    tgt: lifecycle.Target,
    rules: list[str],
    findings: list[Finding],
    reason: str,
    count_models: bool = True,
) -> CheckResult:
    """A result for a project whose database could not be built: static findings, and what was not checked."""
    models = _model_count(settings, tgt) if count_models else None
    skipped = {rule: reason for rule in rules if not rule.startswith(("B", HISTORY_RULE))}
    blockers = len({f.object.split(":", 1)[0] for f in findings if f.code.startswith("B") and f.severity == ERROR})
    return CheckResult(
        findings=sorted(findings, key=sort_key),
        metrics={"models": models or 0, "migration_blockers": blockers},
        rules=rules,
        not_checked=skipped,
        # No database: how many tables exist, or which models have one, was not seen.
        unmeasured={"tables", "models_with_tables", "models_without_tables", "missing_tables", "extra_tables"}
        | ({"models"} if models is None else set()),
    )


def _broken(
    settings: Settings,
    tgt: lifecycle.Target,
    selected: list[Rule],
    rule_ids: list[str],
    codes: set[str],
    broken: HistoryBroken,
) -> CheckResult:
    """A history no database can be built from: its findings, the blocker scan, and every other rule unchecked."""
    static = _static(settings, codes, broken)
    reason = "the history is broken (see C6-history): no database can be built from it"
    history = [f for f in static if f.rule == HISTORY_RULE] if "C6" in {r.code for r in selected} else []
    rest = [f for f in static if f.rule != HISTORY_RULE]
    return _unbuilt(settings, tgt, rule_ids, history + rest or list(broken.findings), reason)


def check_project(
    settings: Settings,
    tgt: lifecycle.Target,
    *,
    live: bool = False,
    revision: str | None = None,
    rules: Sequence[str] | None = None,
) -> CheckResult:
    """Every selected rule on a database built from the history (or, with ``live``, the project's own)."""
    selected = select_rules(rules)
    rule_ids = [rule_id for rule in selected for rule_id in rule.ids]
    codes = {rule.code for rule in selected}
    broken = _history(settings)
    if broken is not None:
        return _broken(settings, tgt, selected, rule_ids, codes, broken)
    at = None if live else (revision or "head")
    try:
        with lifecycle.database_at(settings, tgt, at) as db:
            models = lifecycle.models_database(settings, tgt.server, like=db)
            # Two templates: their names are their identity, so env.py's view of them can be kept.
            pair = hashlib.sha256(f"{db.database}|{models.database}".encode()).hexdigest()[:16]
            record = None if live else settings.cache_dir / "views" / f"{pair}.json"
            return run_checks(settings, db, models, rules=rules, view_record=record)
    except HistoryBroken as exc:  # a revision that does not import in the project's interpreter, say
        return _broken(settings, tgt, selected, rule_ids, codes, exc)
    except ModelsUnbuilt as exc:  # the history built its database; the models could not build theirs
        reason = f"the models could not be built: {exc.message} ({exc.hint})"
        return _unbuilt(settings, tgt, rule_ids, _static(settings, codes, None), reason, count_models=False)
    except MigrationError as exc:
        failed = history_failure("history", exc)
        reason = "a migration failed (see C6-history): the database could not be built"
        return _unbuilt(settings, tgt, rule_ids, [failed, *_static(settings, codes, None)], reason)


def history_verdict(
    settings: Settings,
    target: Callable[[], lifecycle.Target],
    *,
    revision: str | None = None,
    rules: Sequence[str] | None = None,
    fresh: bool = False,
    entry: Entry | None = None,
) -> tuple[CheckResult, Hit | None]:
    """:func:`check_project` on a history-built database, remembered while nothing it depends on changes.

    Such a database is a function of files, settings and the server's version, so a passing verdict is
    kept with them; ``target`` is reached only when the rules run. ``fresh`` runs them whatever is kept;
    ``entry``: the record, when the caller looked it up already.
    A failing verdict is worked out afresh each time.
    """
    entry = entry or verdict_entry(settings, rules, revision)
    hit = entry.lookup() if entry is not None and not fresh else None
    if hit is not None:
        return CheckResult.from_dict(hit.result), hit
    with entry.collect() if entry is not None else contextlib.nullcontext() as loaded:
        result = check_project(settings, target(), revision=revision, rules=rules)
    if entry is not None and loaded is not None:
        if result.ok:
            entry.remember(result.to_dict(), loaded.files)
        else:
            entry.forget()
    return result, None
