"""The pipeline's reports: JSON, JUnit XML, the summary table, and live progress."""

from __future__ import annotations

import json
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import IO

from dbops.core.urls import mask_text
from dbops.pipeline.runner import FAILED, PASSED, SKIPPED, PipelineResult, Step, StepResult


def write_json(result: PipelineResult, path: Path) -> None:
    """Write the summary as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_dict(), indent=2) + "\n")


def write_junit(result: PipelineResult, folder: Path) -> Path:
    """Write the summary as JUnit XML (one testcase per step) into ``folder``; return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    failures = sum(r.status == FAILED for r in result.results)
    skipped = sum(r.status == SKIPPED for r in result.results)
    suite = ET.Element(
        "testsuite",
        name=result.title,
        tests=str(len(result.results)),
        failures=str(failures),
        skipped=str(skipped),
        time=f"{result.seconds:.3f}",
    )
    for r in result.results:
        case = ET.SubElement(suite, "testcase", classname=f"phase{r.phase}", name=r.name, time=f"{r.seconds:.3f}")
        if r.status == FAILED:
            node = ET.SubElement(case, "failure", message=r.summary)
            node.text = mask_text(r.output[-20000:])
        elif r.status == SKIPPED:
            ET.SubElement(case, "skipped", message=r.summary)
    path = folder / f"{result.title.replace(' ', '-')}.xml"
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
    return path


def render_summary(result: PipelineResult, stream: IO[str] | None = None) -> None:
    """One table grouped by phase: each step's status and duration, then the verdict."""
    from rich.console import Console
    from rich.table import Table

    out = stream or sys.stdout
    console = Console(file=out, highlight=False, soft_wrap=False, width=max(140, Console(file=out).width))
    table = Table(title=f"{result.title} summary", show_lines=False)
    for col in ("phase", "step", "status", "time", "details"):
        table.add_column(col, overflow="fold")
    colors = {PASSED: "green", FAILED: "red", SKIPPED: "yellow"}
    for phase in sorted({r.phase for r in result.results}):
        for i, r in enumerate(x for x in result.results if x.phase == phase):
            label = f"{phase} {result.phase_names.get(phase, '')}" if i == 0 else ""
            table.add_row(label, r.name, f"[{colors[r.status]}]{r.status}[/]", f"{r.seconds:.2f}s", r.summary)
    console.print(table)
    for r in result.results:
        if r.status == FAILED and r.output.strip():
            # The tail of what a failing tool printed, so CI logs show the cause without a rerun.
            console.rule(f"{r.name} (phase {r.phase}) output, last lines")
            console.print("\n".join(r.output.rstrip().splitlines()[-40:]), markup=False, highlight=False)
    verdict = "[green]PASSED[/]" if result.exit_code == 0 else f"[red]FAILED[/] (exit {result.exit_code})"
    console.print(f"{result.title}: {verdict} in {result.seconds:.1f}s")


class ProgressPrinter:
    """Shows steps as they start and end: a live spinner on a terminal, plain lines in CI logs."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        from rich.console import Console

        self.console = Console(file=stream or sys.stderr, highlight=False)
        self.running: list[str] = []
        self.lock = threading.Lock()
        self.status = self.console.status("starting...") if self.console.is_terminal else None

    def __enter__(self) -> ProgressPrinter:
        if self.status is not None:
            self.status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.status is not None:
            self.status.stop()

    def __call__(self, event: str, step: Step, result: StepResult | None) -> None:
        """Pipeline event hook."""
        with self.lock:
            if event == "start":
                self.running.append(step.name)
            elif step.name in self.running:
                self.running.remove(step.name)
            if result is not None:
                mark = {PASSED: "[green]ok  [/]", FAILED: "[red]FAIL[/]", SKIPPED: "[yellow]skip[/]"}[result.status]
                self.console.print(
                    f"{mark} phase {step.phase} {step.name} ({result.seconds:.2f}s) {result.summary}",
                    markup=True,
                    soft_wrap=True,
                )
            if self.status is not None:
                self.status.update("running: " + ", ".join(self.running) if self.running else "...")
