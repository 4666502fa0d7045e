"""The check commands: consistency, status, audit, blockers, round trip and the pipelines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from dbops import lifecycle, migrations
from dbops.checks.blockers import scan_blockers
from dbops.checks.consistency import check_project
from dbops.commands import doctor
from dbops.core.config import Settings, import_object
from dbops.core.errors import FindingsDetected
from dbops.core.findings import CheckResult
from dbops.core.urls import mask_url
from dbops.migrations.roundtrip import round_trip as run_round_trip
from dbops.pipeline import PipelineResult, ProgressPrinter, run_pipeline, steps

LINT_STEPS = ("lint", "format", "typecheck")


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

    result = check_project(settings, lifecycle.target(settings), revision=revision)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_audit_markdown(result, import_object(settings.metadata, "metadata")))
    return result


def blockers(settings: Settings) -> CheckResult:
    """The blocker scan of the migration files (no database); TODO markers are warnings, never failing."""
    found = scan_blockers(settings)
    return CheckResult(findings=found, metrics={"migration_blockers": len(found)}, rules=["B"])


def round_trip(settings: Settings) -> CheckResult:
    """Upgrade base to head, downgrade to base, upgrade again on a throwaway database: what stays behind."""
    with lifecycle.empty_database(lifecycle.target(settings), "roundtrip") as db:
        found = run_round_trip(settings, db)
    return CheckResult(findings=found, rules=["R1-roundtrip"])


def pipeline(
    settings: Settings,
    title: str,
    phase: int | None = None,
    fail_fast: bool = False,
    json: str | None = None,
    junit: str | None = None,
    no_cache: bool = False,
) -> int:
    """Run full-check (or one phase) with progress and summary, write the reports; its exit code."""
    return steps.run_and_report(settings, title, phase, fail_fast, json, junit, no_cache)


def lint(settings: Settings, fix: bool = False) -> PipelineResult:
    """ruff (format and lint) and mypy as pipeline steps; with ``fix``, ruff's fixes are applied first."""
    py = sys.executable
    if fix:
        subprocess.run([py, "-m", "ruff", "format", *settings.lint_paths], cwd=settings.root, check=False)
        subprocess.run([py, "-m", "ruff", "check", "--fix", *settings.lint_paths], cwd=settings.root, check=False)
    with steps.run_context(settings) as ctx:
        chosen = [st for st in steps.build_steps(ctx) if st.name in LINT_STEPS]
        return run_pipeline("lint", chosen, on_event=ProgressPrinter())


def pytest_args(
    settings: Settings, integration: bool = False, everything: bool = False, workers: str = "auto", k: str | None = None
) -> list[str]:
    """The pytest command line of `test`: unit tests, or the integration tests, or all with the extra folders."""
    paths = (
        [settings.unit_tests, settings.integration_tests, *settings.extra_tests]
        if everything
        else [settings.integration_tests if integration else settings.unit_tests]
    )
    args = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider"]
    if workers != "0":
        args += ["-n", workers]
    if k:
        args += ["-k", k]
    return args


def setup(settings: Settings) -> list[str]:
    """Onboarding: .env from the example, the server, migrations and seed; a line for each thing done."""
    done: list[str] = []
    env_file, example = settings.root / ".env", settings.root / ".env.example"
    if not env_file.exists() and example.exists():
        shutil.copyfile(example, env_file)
        done.append("created .env from .env.example")
    tgt = lifecycle.target(settings)
    db = lifecycle.ensure_database(tgt)
    migrations.upgrade(settings, db, "head")
    lifecycle.seed(settings, db)
    done.append(f"ready: {mask_url(db)} at {migrations.current(settings, db)}")
    return done


def prerequisites(settings: Settings) -> list[doctor.Check]:
    """The doctor's checks of the machine and the project."""
    return doctor.run_doctor(settings)
