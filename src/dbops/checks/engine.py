"""The rule registry and the run: connect once, compute the shared data once, let every rule add findings."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from dbops.checks.blockers import blocked_files, scan_blockers
from dbops.checks.context import CheckContext
from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError, DbopsError, NotChecked, command_hint
from dbops.core.findings import CheckResult, Finding, sort_key, status_block
from dbops.core.urls import parse_url
from dbops.migrations.scriptdir import open_scripts
from dbops.migrations.scripts import version_files

# Built-in rules: code -> module exposing RULES (the finding rule ids) and check(ctx).
BUILTIN: dict[str, str] = {
    "C1": "dbops.checks.c1_model_table",
    "C2": "dbops.checks.c2_table_model",
    "C3": "dbops.checks.c3_columns",
    "C4": "dbops.checks.c4_constraints",
    "C5": "dbops.checks.c5_enums",
    "C6": "dbops.checks.c6_history",
    "B": "dbops.checks.blockers",
}
# Plug-ins: an entry point named by its code, pointing at such a module or at a check function.
ENTRY_POINT_GROUP = "dbops.checks"


@dataclass(frozen=True)
class Rule:
    """A loaded rule: its code, the finding rule ids it produces, and its check function."""

    code: str
    ids: tuple[str, ...]
    check: Callable[[CheckContext], Iterable[Finding]]


def available_rules() -> dict[str, str]:
    """Rule codes and where each lives (``module`` or ``module:function``), plug-ins included."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def load_rule(code: str, target: str) -> Rule:
    """Import one rule; a module must define ``RULES`` and ``check``."""
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    if attr:
        obj = getattr(obj, attr)
    if isinstance(obj, ModuleType):
        return Rule(code, tuple(obj.RULES), obj.check)
    return Rule(code, tuple(getattr(obj, "RULES", (code,))), obj)


def select_rules(names: Sequence[str] | None = None) -> list[Rule]:
    """The rules to run: all when ``names`` is None; each name a code (C3) or finding id (C3-columns, B1-...)."""
    known = available_rules()
    if names is None:
        return [load_rule(code, target) for code, target in known.items()]
    chosen: dict[str, Rule] = {}
    for name in names:
        code = name if name in known else name.split("-", 1)[0]
        if code not in known:
            code = code.rstrip("0123456789")  # "B1" belongs to the "B" rule
        if code not in known:
            raise ConfigError(f"unknown consistency rule {name!r}", f"use one of: {', '.join(known)}")
        chosen.setdefault(code, load_rule(code, known[code]))
    return list(chosen.values())


# Metrics that need the checked database's tables (unknown when env.py could not show its version table).
_TABLE_METRICS = ("tables", "models_with_tables", "models_without_tables", "missing_tables", "extra_tables")


def _metrics(ctx: CheckContext, findings: list[Finding], ran_blockers: bool) -> tuple[dict[str, int], set[str]]:
    """The status numbers, and the keys of those that could not be measured."""
    if not ran_blockers:
        findings = scan_blockers(version_files(ctx.script), ctx.settings.root)
    metrics = {"models": len(ctx.model_tables), "migration_blockers": blocked_files(findings)}
    try:
        missing = len(ctx.missing_tables)
        metrics.update(
            tables=len(ctx.db_tables),
            models_with_tables=len(ctx.model_tables) - missing,
            models_without_tables=missing,
            missing_tables=missing,
            extra_tables=len(ctx.extra_tables),
        )
    except NotChecked:
        return metrics, set(_TABLE_METRICS)
    return metrics, set()


def _run_rule(rule: Rule, ctx: CheckContext, not_checked: dict[str, str]) -> list[Finding]:
    """The rule's findings; a rule that could not look is recorded in ``not_checked`` (what it found so far stays)."""
    found: list[Finding] = []
    try:
        for finding in rule.check(ctx):
            found.append(finding)
    except NotChecked as exc:
        not_checked.update(dict.fromkeys(rule.ids, exc.message))
    except DbopsError:
        raise
    except Exception as exc:  # noqa: BLE001 - the boundary to rule plug-ins: a broken rule is "not checked", shown
        reason = f"the rule failed: {type(exc).__name__}: {exc} (rerun with `{command_hint('--debug ...')}`)"
        not_checked.update(dict.fromkeys(rule.ids, reason))
    return found


def run_checks(
    settings: Settings,
    url: URL | str,
    models_url: URL | None = None,
    rules: Sequence[str] | None = None,
    view_record: Path | None = None,
) -> CheckResult:
    """Compare the models, the migrations and the database at ``url``; every rule when ``rules`` is None.

    ``models_url`` is a database the models built; by default the cached one on ``url``'s server.
    """
    url = parse_url(url) if isinstance(url, str) else url
    selected = select_rules(rules)
    script = open_scripts(settings)
    database.connect(url).close()  # a clear one-line error (exit 3) before anything is built
    if models_url is None:
        from dbops.lifecycle import models_database

        models_url = models_database(settings, url.set(database="postgres"), like=url)
    schema = settings.tenant_schema or settings.schemas[0]
    ctx = CheckContext(
        settings=settings, url=url, models_url=models_url, script=script, schema=schema, view_record=view_record
    )
    not_checked: dict[str, str] = {}
    findings: list[Finding] = []
    for rule in selected:
        findings += _run_rule(rule, ctx, not_checked)
    metrics, unmeasured = _metrics(ctx, findings, any(r.code == "B" for r in selected))
    return CheckResult(
        findings=sorted(findings, key=sort_key),
        metrics=metrics,
        rules=[rule_id for rule in selected for rule_id in rule.ids],
        not_checked=not_checked,
        unmeasured=unmeasured,
    )


def status_metrics(settings: Settings, url: URL | str, models_url: URL | None = None) -> dict[str, int | None]:
    """The seed's "Database Schema" numbers, measured live (no rule runs, only the counts; None: not measured)."""
    result = run_checks(settings, url, models_url, rules=[])
    return status_block(result.metrics, result.unmeasured)
