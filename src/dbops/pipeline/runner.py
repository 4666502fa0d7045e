"""A small step runner: dependencies, concurrency, skip reasons, fail-fast, and one summary."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter

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


Emit = Callable[[str, Step, StepResult | None], None]


class _Run:
    """One run's scheduling: the dependency graph (graphlib), results so far, steps waiting for a worker, running."""

    def __init__(
        self,
        steps: Sequence[Step],
        pool: ThreadPoolExecutor,
        *,
        workers: int,
        fail_fast: bool,
        cache: StepRecords | None,
        emit: Emit,
    ) -> None:
        self.steps, self.pool, self.workers, self.emit = steps, pool, workers, emit
        self.fail_fast, self.cache = fail_fast, cache
        self.by_name = {s.name: s for s in steps}
        self.order = {s.name: i for i, s in enumerate(steps)}
        self.graph: TopologicalSorter[str] = TopologicalSorter({s.name: (*s.needs, *s.after) for s in steps})
        # Who needs each step, in declaration order: a step that does not pass skips them (``after`` never does).
        self.dependents: dict[str, list[Step]] = {s.name: [d for d in steps if s.name in d.needs] for s in steps}
        self.results: dict[str, StepResult] = {}
        self.waiting: list[Step] = []  # ready, started only when a worker is free so --fail-fast can hold it back
        self.running: dict[Future[Outcome], tuple[Step, float]] = {}
        self.keys: dict[str, str | None] = {}
        self.lock = threading.Lock()
        self.stop_reason = ""

    def run(self) -> None:
        """Run every step that can run; the rest end skipped, each saying why."""
        with contextlib.suppress(CycleError):
            self.graph.prepare()  # a cycle's steps never become ready: they are skipped at the end
        self._advance()
        while self.running:
            done, _ = wait(list(self.running), return_when=FIRST_COMPLETED)
            failed = [name for name in (self._finish(fut) for fut in done) if name]
            if failed and self.fail_fast and not self.stop_reason:
                self.stop_reason = f"--fail-fast: {failed[0]} failed"
            if self.stop_reason:
                self._skip_unstarted(self.stop_reason)
            else:
                self._skip_dependents(failed)
                self._advance()
        self._skip_unstarted("dependency cycle")  # nothing runs and nothing can: what is left waits on a cycle

    def _end(self, step: Step, result: StepResult) -> None:
        self.results[step.name] = result
        self.emit("end", step, result)

    def _skip(self, step: Step, why: str, caused_by: str | None = None) -> None:
        self._end(step, StepResult(step.name, step.phase, SKIPPED, 0, 0.0, why, caused_by=caused_by))

    def _cached(self, step: Step) -> bool:
        """End ``step`` as passed if it passed before with the same inputs (hashed once, when it becomes ready)."""
        key = self.keys[step.name] = _cache_key(step) if self.cache is not None else None
        record = self.cache.hit(step.name, key) if self.cache is not None and key else None
        if record is not None:
            summary = str(record["summary"])
            self._end(step, StepResult(step.name, step.phase, PASSED, 0, 0.0, summary))
        return record is not None

    def _advance(self) -> None:
        """Queue the steps whose dependencies all ended (the skipped and cached end at once), then start some."""
        while names := self.graph.get_ready():
            for name in names:
                step = self.by_name[name]
                if name in self.results or self._cached(step):
                    self.graph.done(name)  # skipped before it was ready, or cached: it needs no worker
                else:
                    self.waiting.append(step)
        self.waiting.sort(key=lambda st: self.order[st.name])  # declaration order, as the pipeline lists them
        for step in list(self.waiting):
            if len(self.running) >= self.workers:
                break
            if step.exclusive and any(st.exclusive for st, _ in self.running.values()):
                continue  # it would only wait for the lock while holding a worker others could use
            self.waiting.remove(step)
            self.emit("start", step, None)
            self.running[self.pool.submit(_call, step, self.lock)] = (step, time.perf_counter())

    def _finish(self, fut: Future[Outcome]) -> str | None:
        """Record a finished step; return its name if it failed."""
        step, t0 = self.running.pop(fut)
        outcome = fut.result()
        status = PASSED if outcome.code == 0 else FAILED
        res = StepResult(
            step.name, step.phase, status, outcome.code, time.perf_counter() - t0, outcome.summary, outcome.output
        )
        self.results[step.name] = res
        if status == PASSED and self.cache is not None and self.keys.get(step.name):
            self.cache.store(step.name, str(self.keys[step.name]), res.summary, res.seconds)
        self.emit("end", step, res)
        self.graph.done(step.name)
        return step.name if status == FAILED else None

    def _skip_dependents(self, names: list[str]) -> None:
        """Skip at once, transitively, every step needing one that did not pass; the reason names the root failure."""
        pending = list(names)
        while pending:
            for step in self.dependents[pending.pop(0)]:
                if step.name in self.results:
                    continue
                # A skipped dependency propagates its failure: the step cannot be meaningful until it is fixed.
                failed = [n for n in step.needs if n in self.results and self.results[n].status != PASSED]
                root = self.results[failed[0]].caused_by or failed[0]
                self._skip(step, f"{root} did not pass; this step means nothing until it does", caused_by=root)
                pending.append(step.name)

    def _skip_unstarted(self, why: str) -> None:
        """Skip every step neither ended nor running (--fail-fast, or a cycle once nothing else can run)."""
        self.waiting.clear()
        running = {st.name for st, _ in self.running.values()}
        for step in self.steps:
            if step.name not in self.results and step.name not in running:
                self._skip(step, why)


def run_pipeline(
    title: str,
    steps: Sequence[Step],
    *,
    fail_fast: bool = False,
    workers: int = 3,
    on_event: Emit | None = None,
    cache: StepRecords | None = None,
    phase_names: dict[int, str] | None = None,
) -> PipelineResult:
    """Run ``steps`` respecting ``needs``; independent steps run concurrently."""
    by_name = {s.name: s for s in steps}
    for s in steps:
        missing = [n for n in (*s.needs, *s.after) if n not in by_name]
        if missing:
            raise DbopsError(f"step {s.name!r} needs unknown step(s) {missing}", "fix the pipeline definition")
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=workers)
    emit = on_event or (lambda *_: None)
    run = _Run(steps, pool, workers=workers, fail_fast=fail_fast, cache=cache, emit=emit)
    try:
        run.run()
    except BaseException:
        # Ctrl-C or SIGTERM: stop the tools we started, drop queued steps; in-process steps end on their own.
        terminate_children()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    ordered = [run.results[s.name] for s in steps]
    return PipelineResult(title, ordered, time.perf_counter() - started, dict(phase_names or {}))
