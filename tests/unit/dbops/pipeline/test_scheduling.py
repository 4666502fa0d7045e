"""The runner's scheduling: ordering-only dependencies, eager skips, exclusive steps, cycles, fail-fast, events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dbops.cache.steps import StepRecords
from dbops.core.config import Settings
from dbops.core.errors import DbopsError
from dbops.pipeline import FAILED, PASSED, SKIPPED, Outcome, Step, StepResult, run_pipeline


class Trace:
    """Step bodies that record when they ran, and the runner's events in the order they came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[str, tuple[float, float]] = {}
        self.events: list[tuple[str, str]] = []

    def body(self, name: str, code: int = 0, seconds: float = 0.0) -> Callable[[], Outcome]:
        def run() -> Outcome:
            start = time.perf_counter()
            time.sleep(seconds)
            with self.lock:
                self.spans[name] = (start, time.perf_counter())
            return Outcome(code, name)

        return run

    def on_event(self, event: str, step: Step, result: StepResult | None) -> None:
        with self.lock:
            self.events.append((event, step.name))

    def started(self) -> list[str]:
        return [name for event, name in self.events if event == "start"]


def _by_name(steps: list[StepResult]) -> dict[str, StepResult]:
    return {r.name: r for r in steps}


def test_after_orders_a_step_but_a_failure_there_never_skips_it() -> None:
    trace = Trace()
    steps = [
        Step("smoke", 4, trace.body("smoke"), after=("reset-db",)),
        Step("reset-db", 2, trace.body("reset-db", code=1, seconds=0.1)),
    ]
    result = _by_name(run_pipeline("t", steps, workers=2).results)
    assert result["reset-db"].status == FAILED
    assert result["smoke"].status == PASSED and result["smoke"].caused_by is None
    assert trace.spans["reset-db"][1] <= trace.spans["smoke"][0]


def test_a_failure_skips_its_dependents_at_once_not_when_their_other_needs_end() -> None:
    trace = Trace()
    steps = [
        Step("bad", 1, trace.body("bad", code=2)),
        Step("slow", 1, trace.body("slow", seconds=0.3)),
        Step("mid", 2, trace.body("mid"), needs=("bad", "slow")),
        Step("last", 3, trace.body("last"), needs=("mid",)),
    ]
    result = _by_name(run_pipeline("t", steps, workers=2, on_event=trace.on_event).results)
    # The skips (and the reasons naming the root failure) come while slow still runs.
    ends = [name for event, name in trace.events if event == "end"]
    assert ends.index("mid") < ends.index("slow") and ends.index("last") < ends.index("slow")
    assert (result["mid"].caused_by, result["last"].caused_by) == ("bad", "bad")
    assert result["last"].summary == "bad did not pass; this step means nothing until it does"
    assert result["slow"].status == PASSED and "mid" not in trace.spans


def test_exclusive_steps_never_overlap_while_free_steps_run_beside_them() -> None:
    trace = Trace()
    steps = [Step(f"x{i}", 1, trace.body(f"x{i}", seconds=0.1), exclusive=True) for i in range(3)]
    steps += [Step(f"f{i}", 1, trace.body(f"f{i}", seconds=0.1)) for i in range(3)]
    assert run_pipeline("t", steps, workers=3, on_event=trace.on_event).exit_code == 0
    # Judged by the runner's events: the bodies alone would look serial even if the runner started them together.
    started_exclusive: set[str] = set()
    for event, name in trace.events:
        if name.startswith("x") and event == "start":
            assert not started_exclusive, (name, started_exclusive)
            started_exclusive.add(name)
        elif name.startswith("x"):
            started_exclusive.discard(name)
    exclusive = sorted(span for name, span in trace.spans.items() if name.startswith("x"))
    free = [span for name, span in trace.spans.items() if name.startswith("f")]
    # Waiting exclusive steps do not hold the workers: the free steps run while the first exclusive one does.
    assert any(f[0] < exclusive[0][1] for f in free)


def test_a_cycle_is_reported_once_everything_else_ran() -> None:
    trace = Trace()
    steps = [
        Step("a", 1, trace.body("a"), needs=("b",)),
        Step("b", 1, trace.body("b"), after=("a",)),
        Step("downstream", 2, trace.body("downstream"), needs=("a",)),
        Step("free", 1, trace.body("free")),
    ]
    result = _by_name(run_pipeline("t", steps).results)
    assert result["free"].status == PASSED
    assert {name: (r.status, r.summary) for name, r in result.items() if name != "free"} == {
        "a": (SKIPPED, "dependency cycle"),
        "b": (SKIPPED, "dependency cycle"),
        "downstream": (SKIPPED, "dependency cycle"),
    }
    assert set(trace.spans) == {"free"}


def test_fail_fast_lets_running_steps_finish_and_holds_back_the_rest() -> None:
    trace = Trace()
    steps = [
        Step("slow", 1, trace.body("slow", seconds=0.3)),
        Step("bad", 1, trace.body("bad", code=4)),
        Step("queued", 1, trace.body("queued")),
        Step("after-slow", 2, trace.body("after-slow"), needs=("slow",)),
    ]
    result = run_pipeline("t", steps, workers=2, fail_fast=True)
    assert [(r.status, r.summary) for r in result.results] == [
        (PASSED, "slow"),
        (FAILED, "bad"),
        (SKIPPED, "--fail-fast: bad failed"),
        (SKIPPED, "--fail-fast: bad failed"),
    ]
    assert result.exit_code == 4


def _records(root: Path) -> StepRecords:
    """Step records of a project at ``root`` (nothing of it is read: the steps' keys are given)."""
    return StepRecords(Settings(root=root, alembic_ini=root / "alembic.ini", metadata="m:metadata", cache_dir=root))


def test_ready_steps_start_in_declaration_order_even_when_a_cached_step_unblocked_them(tmp_path: Path) -> None:
    cache = _records(tmp_path)
    cache.store("base", "k", "base ran", 0.1)
    trace = Trace()
    steps = [
        Step("uses-base", 1, trace.body("uses-base"), needs=("base",)),
        Step("other", 1, trace.body("other")),
        Step("base", 1, trace.body("base"), cache_key=lambda: "k"),
    ]
    result = run_pipeline("t", steps, workers=1, cache=cache, on_event=trace.on_event)
    assert [r.status for r in result.results] == [PASSED, PASSED, PASSED]
    # The cached step needs no worker and starts nothing; the first-declared ready step gets the worker first.
    assert trace.started() == ["uses-base", "other"]


def test_every_step_ends_exactly_once_and_only_steps_that_run_start(tmp_path: Path) -> None:
    cache = _records(tmp_path)
    cache.store("cached", "k", "earlier", 0.1)
    trace = Trace()
    steps = [
        Step("cached", 1, trace.body("cached"), cache_key=lambda: "k"),
        Step("bad", 1, trace.body("bad", code=1)),
        Step("skipped", 2, trace.body("skipped"), needs=("bad",)),
        Step("fine", 2, trace.body("fine"), needs=("cached",)),
    ]
    run_pipeline("t", steps, cache=cache, on_event=trace.on_event)
    assert sorted(name for event, name in trace.events if event == "end") == ["bad", "cached", "fine", "skipped"]
    assert sorted(trace.started()) == ["bad", "fine"]


def test_an_unknown_dependency_is_one_clear_error() -> None:
    steps = [Step("smoke", 4, lambda: Outcome(0), needs=("reset",))]
    with pytest.raises(DbopsError) as caught:
        run_pipeline("t", steps)
    assert caught.value.one_line() == (
        "step 'smoke' needs unknown step(s) ['reset'] (fix: fix the pipeline definition)"
    )
