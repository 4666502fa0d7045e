"""The pipeline commands: full-check and its phases, lint, and the test command line."""

from __future__ import annotations

import subprocess
import sys

from dbops.core.config import Settings
from dbops.pipeline import PipelineResult, ProgressPrinter, run_pipeline, steps

LINT_STEPS = ("lint", "format", "typecheck")


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


def full_check(
    settings: Settings,
    fail_fast: bool = False,
    json: str | None = None,
    junit: str | None = None,
    no_cache: bool = False,
    keep_server: bool = False,
) -> int:
    """Every step; in CI (CI set) the server this run started is stopped at the end unless ``keep_server``."""
    from dbops.backends import servers
    from dbops.backends.base import get_backend

    with servers.pipeline_server(settings, lambda: get_backend(settings).stop(), keep_server):
        return pipeline(settings, "full-check", None, fail_fast, json, junit, no_cache)


def lint(settings: Settings, fix: bool = False) -> PipelineResult:
    """ruff (format and lint) and mypy as pipeline steps; with ``fix``, ruff's fixes are applied first."""
    py = sys.executable
    if fix:
        subprocess.run([py, "-m", "ruff", "format", *settings.pipeline.lint_paths], cwd=settings.root, check=False)
        subprocess.run(
            [py, "-m", "ruff", "check", "--fix", *settings.pipeline.lint_paths], cwd=settings.root, check=False
        )
    with steps.run_context(settings) as ctx:
        chosen = [st for st in steps.build_steps(ctx) if st.name in LINT_STEPS]
        return run_pipeline("lint", chosen, on_event=ProgressPrinter())


def pytest_args(
    settings: Settings, integration: bool = False, everything: bool = False, workers: str = "auto", k: str | None = None
) -> list[str]:
    """The pytest command line of `test`: unit tests, or the integration tests, or all with the extra folders."""
    paths = (
        [settings.pipeline.unit_tests, settings.pipeline.integration_tests, *settings.pipeline.extra_tests]
        if everything
        else [settings.pipeline.integration_tests if integration else settings.pipeline.unit_tests]
    )
    args = [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider"]
    if workers != "0":
        args += ["-n", workers]
    if k:
        args += ["-k", k]
    return args
