"""A small step runner: dependencies, concurrency, skip reasons, fail-fast, and one summary."""

from dbops.pipeline.runner import (
    FAILED,
    PASSED,
    SKIPPED,
    Outcome,
    PipelineResult,
    Step,
    StepResult,
    run_pipeline,
)
from dbops.pipeline.summary import ProgressPrinter, render_summary, write_json, write_junit

__all__ = [
    "FAILED",
    "PASSED",
    "SKIPPED",
    "Outcome",
    "PipelineResult",
    "ProgressPrinter",
    "Step",
    "StepResult",
    "render_summary",
    "run_pipeline",
    "write_json",
    "write_junit",
]
