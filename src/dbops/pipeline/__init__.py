"""A small step runner: dependencies, concurrency, skip reasons, fail-fast, and one summary."""

from __future__ import annotations

import json
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from dbops.cache.steps import StepRecords
from dbops.core.errors import DbopsError
from dbops.core.procs import terminate_children
from dbops.core.urls import mask_text

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class Outcome:
    """What a step reports: an exit code, one summary line, and the full output."""

    code: int
    summary: str = ""
    output: str = ""


@dataclass(frozen=True)
class Step:
    """One unit of work in a pipeline; ``exclusive`` steps never run at the same time as each other."""

    name: str
    phase: int
    run: Callable[[], Outcome]
    needs: tuple[str, ...] = ()
    exclusive: bool = False
    # Steps that must have finished first, whatever their outcome (ordering only, never a reason to skip).
    after: tuple[str, ...] = ()
    description: str = ""
    # Input key (see dbops.cache): a step whose inputs are unchanged since it last passed is not rerun.
    cache_key: Callable[[], str] | None = None


@dataclass
class StepResult:
    """How a step ended."""

    name: str
    phase: int
    status: str
    code: int
    seconds: float
    summary: str
    output: str = ""
    # For a step skipped because another failed: the failed step at the root of it.
    caused_by: str | None = None


@dataclass
class PipelineResult:
    """Every step's result, in declaration order."""

    title: str
    results: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    # What the caller calls its phases (full-check: the sprint's four); the runner only groups by number.
    phase_names: dict[int, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """The worst step's code (0 when everything passed or was skipped by choice)."""
        worst = max((r.code for r in self.results if r.status == FAILED), default=0)
        return worst if worst > 0 else (1 if any(r.status == FAILED for r in self.results) else 0)

    def to_dict(self) -> dict[str, object]:
        """The summary as JSON-ready data."""
        return {
            "title": self.title,
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "steps": [
                {
                    "name": r.name,
                    "phase": r.phase,
                    "phase_name": self.phase_names.get(r.phase, ""),
                    "status": r.status,
                    "code": r.code,
                    "seconds": round(r.seconds, 3),
                    "summary": r.summary,
                    "caused_by": r.caused_by,
                }
                for r in self.results
            ],
        }


def _cache_key(step: Step) -> str | None:
    """The step's input key, or None (no caching) if it has none or hashing its inputs failed."""
    if step.cache_key is None:
        return None
    try:
        return step.cache_key()
    except OSError:
        return None  # a file vanished while hashing: just run the step


def _call(step: Step, lock: threading.Lock) -> Outcome:
    """Run one step; dbops errors and unexpected exceptions become a failed outcome, never a crash."""
    try:
        if step.exclusive:
            with lock:
                return step.run()
        return step.run()
    except DbopsError as exc:
        return Outcome(exc.exit_code or 1, mask_text(exc.one_line()))
    except Exception as exc:  # noqa: BLE001 - one failing step must not stop the others
        # The summary cell gets the first line: a driver's message goes on with the statement and its values.
        first = (str(exc).strip().splitlines() or [""])[0]
        return Outcome(1, mask_text(f"{type(exc).__name__}: {first}"))


def run_pipeline(
    title: str,
    steps: Sequence[Step],
    *,
    fail_fast: bool = False,
    workers: int = 3,
    on_event: Callable[[str, Step, StepResult | None], None] | None = None,
    cache: StepRecords | None = None,
    phase_names: dict[int, str] | None = None,
) -> PipelineResult:
    """Run ``steps`` respecting ``needs``; independent steps run concurrently."""
    by_name = {s.name: s for s in steps}
    for s in steps:
        missing = [n for n in (*s.needs, *s.after) if n not in by_name]
        if missing:
            raise DbopsError(f"step {s.name!r} needs unknown step(s) {missing}", "fix the pipeline definition")
    results: dict[str, StepResult] = {}
    running: dict[Future[Outcome], tuple[Step, float]] = {}
    lock = threading.Lock()
    keys: dict[str, str | None] = {}
    started = time.perf_counter()
    stop_reason = ""
    emit = on_event or (lambda *_: None)

    def skip(step: Step, why: str, caused_by: str | None = None) -> None:
        results[step.name] = StepResult(step.name, step.phase, SKIPPED, 0, 0.0, why, caused_by=caused_by)
        emit("end", step, results[step.name])

    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        while len(results) < len(steps):
            done_before = len(results)
            active = {st.name for st, _ in running.values()}
            for step in steps:
                if step.name in results or step.name in active:
                    continue
                if stop_reason:
                    skip(step, stop_reason)
                    continue
                failed = [n for n in step.needs if n in results and results[n].status != PASSED]
                if failed:
                    # A skipped dependency propagates its failure: the step cannot be meaningful until it is fixed.
                    root = results[failed[0]].caused_by or failed[0]
                    skip(step, f"{root} did not pass; this step means nothing until it does", caused_by=root)
                    continue
                if all(n in results for n in (*step.needs, *step.after)):
                    if step.name not in keys:  # hashed once, when the step first becomes ready
                        key = keys[step.name] = _cache_key(step) if cache is not None else None
                        record = cache.hit(step.name, key) if cache is not None and key else None
                        if record is not None:
                            results[step.name] = StepResult(
                                step.name, step.phase, PASSED, 0, 0.0, str(record["summary"])
                            )
                            emit("end", step, results[step.name])
                            continue
                    if len(running) >= workers:
                        continue  # started only when a worker is free, so --fail-fast can still hold it back
                    if step.exclusive and any(st.exclusive for st, _ in running.values()):
                        continue  # it would only wait for the lock while holding a worker others could use
                    emit("start", step, None)
                    running[pool.submit(_call, step, lock)] = (step, time.perf_counter())
            if not running and len(results) > done_before:
                continue  # cached or skipped steps unblocked others: schedule again
            if not running:
                for step in steps:  # nothing runnable and nothing running: a dependency cycle
                    if step.name not in results:
                        skip(step, "dependency cycle")
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for fut in done:
                step, t0 = running.pop(fut)
                outcome = fut.result()
                status = PASSED if outcome.code == 0 else FAILED
                res = StepResult(
                    step.name,
                    step.phase,
                    status,
                    outcome.code,
                    time.perf_counter() - t0,
                    outcome.summary,
                    outcome.output,
                )
                results[step.name] = res
                if status == PASSED and cache is not None and keys.get(step.name):
                    cache.store(step.name, str(keys[step.name]), res.summary, res.seconds)
                emit("end", step, res)
                if status == FAILED and fail_fast and not stop_reason:
                    stop_reason = f"--fail-fast: {step.name} failed"
    except BaseException:
        # Ctrl-C or SIGTERM: stop the tools we started, drop queued steps; in-process steps end on their own.
        terminate_children()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    ordered = [results[s.name] for s in steps]
    return PipelineResult(title, ordered, time.perf_counter() - started, dict(phase_names or {}))


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
