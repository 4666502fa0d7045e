"""A small step runner: dependencies, concurrency, skip reasons, fail-fast, and one summary."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from dbops.core.errors import DbopsError
from dbops.core.procs import terminate_children
from dbops.core.urls import mask_text
from dbops.pipeline.stepcache import StepCache

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
    # Input key (see dbops.pipeline.stepcache): a step whose inputs are unchanged since it last passed is not rerun.
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
    cache: StepCache | None = None,
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
                                step.name, step.phase, PASSED, 0, 0.0, f"cached, inputs unchanged: {record['summary']}"
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
