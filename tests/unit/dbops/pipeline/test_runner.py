"""The step runner: ordering, concurrency, skip propagation, fail-fast, exit codes and reports."""

from __future__ import annotations

import io
import json
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from dbops.cache.inputs import input_key
from dbops.cache.steps import StepRecords
from dbops.core.config import Settings
from dbops.pipeline import FAILED, PASSED, SKIPPED, Outcome, Step, render_summary, run_pipeline, write_json, write_junit


def _ok(summary: str = "fine") -> Outcome:
    return Outcome(0, summary)


def test_dependencies_run_in_order_and_failures_skip_dependents() -> None:
    order: list[str] = []

    def rec(name: str, code: int = 0) -> Step:
        def body() -> Outcome:
            order.append(name)
            return Outcome(code, name)

        return Step(name, 1, body)

    steps = [
        Step("a", 1, rec("a").run),
        Step("b", 2, rec("b", 1).run, needs=("a",)),
        Step("c", 2, rec("c").run, needs=("b",)),
        Step("d", 3, rec("d").run, needs=("c",)),
        Step("e", 3, rec("e").run, needs=("a",)),
    ]
    result = run_pipeline("t", steps)
    status = {r.name: r.status for r in result.results}
    assert status == {"a": PASSED, "b": FAILED, "c": SKIPPED, "d": SKIPPED, "e": PASSED}
    assert order.index("a") < order.index("b")
    assert "c" not in order and "d" not in order
    # d waits on c, which was skipped because b failed: the reason names b, the root cause.
    assert {r.name: r.summary for r in result.results}["d"] == "b did not pass; this step means nothing until it does"
    assert {r.name: r.caused_by for r in result.results} == {"a": None, "b": None, "c": "b", "d": "b", "e": None}
    assert result.exit_code == 1


def test_independent_steps_overlap_and_exclusive_steps_do_not() -> None:
    active = 0
    peak_free = 0
    peak_exclusive = 0
    lock = threading.Lock()

    def body(exclusive: bool) -> Outcome:
        nonlocal active, peak_free, peak_exclusive
        with lock:
            active += 1
            if exclusive:
                peak_exclusive = max(peak_exclusive, active)
            else:
                peak_free = max(peak_free, active)
        time.sleep(0.15)
        with lock:
            active -= 1
        return _ok()

    free = [Step(f"f{i}", 1, lambda: body(False)) for i in range(2)]
    result = run_pipeline("t", free, workers=3)
    assert peak_free == 2 and result.exit_code == 0
    active = 0
    excl = [Step(f"x{i}", 1, lambda: body(True), exclusive=True) for i in range(3)]
    run_pipeline("t", excl, workers=3)
    assert peak_exclusive == 1


def test_fail_fast_skips_steps_not_yet_started_and_worst_code_wins() -> None:
    def steps() -> list[Step]:
        return [
            Step("bad", 1, lambda: Outcome(3, "unreachable")),
            Step("independent", 2, lambda: _ok()),  # needs nothing: only --fail-fast stops it
            Step("later", 2, lambda: _ok(), needs=("bad",)),
        ]

    stopped = run_pipeline("t", steps(), fail_fast=True, workers=1)
    assert [r.status for r in stopped.results] == [FAILED, SKIPPED, SKIPPED]
    assert stopped.results[1].summary == "--fail-fast: bad failed"
    assert stopped.exit_code == 3
    carried_on = run_pipeline("t", steps(), fail_fast=False, workers=1)
    assert [r.status for r in carried_on.results] == [FAILED, PASSED, SKIPPED]


def test_a_step_killed_by_a_signal_fails_the_run() -> None:
    result = run_pipeline("t", [Step("ok", 1, lambda: _ok()), Step("killed", 1, lambda: Outcome(-9, "killed"))])
    assert result.results[1].status == FAILED
    assert result.exit_code == 1


def test_exceptions_become_failed_steps_not_crashes() -> None:
    def boom() -> Outcome:
        raise RuntimeError("kaput postgresql://u:hunter22@h/db")

    result = run_pipeline("t", [Step("x", 1, boom), Step("y", 1, lambda: _ok())])
    assert [r.status for r in result.results] == [FAILED, PASSED]
    assert "hunter22" not in result.results[0].summary and "kaput" in result.results[0].summary


def test_dependency_cycle_is_reported_not_hung() -> None:
    steps = [Step("a", 1, lambda: _ok(), needs=("b",)), Step("b", 1, lambda: _ok(), needs=("a",))]
    result = run_pipeline("t", steps)
    assert {r.summary for r in result.results} == {"dependency cycle"}


def test_reports(tmp_path: Path) -> None:
    from dbops.pipeline.steps import PHASES

    steps = [Step("lint", 1, lambda: Outcome(1, "E501")), Step("ok", 4, lambda: _ok())]
    result = run_pipeline("full-check", steps, phase_names=PHASES)
    write_json(result, tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["ok"] is False and data["exit_code"] == 1
    assert [s["name"] for s in data["steps"]] == ["lint", "ok"]
    assert data["steps"][0]["phase_name"] == "consistency tests"
    suite = ET.parse(write_junit(result, tmp_path)).getroot()
    assert suite.get("failures") == "1" and len(suite.findall("testcase")) == 2
    out = io.StringIO()
    render_summary(result, out)
    text = out.getvalue()
    assert "consistency tests" in text and "end-to-end verification" in text and "FAILED" in text


def _records(root: Path) -> StepRecords:
    return StepRecords(
        Settings(root=root, alembic_ini=root / "alembic.ini", metadata="m:md", cache_dir=root / ".dbops")
    )


def test_passed_steps_are_cached_by_input_key_and_failures_never_are(tmp_path: Path) -> None:
    calls: list[str] = []
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("x = 1\n")
    cache = _records(tmp_path)

    def make(code: int) -> list[Step]:
        def body(name: str) -> Outcome:
            calls.append(name)
            return Outcome(code if name == "flaky" else 0, f"{name} ran")

        key = lambda: input_key(tmp_path, ["src"])  # noqa: E731
        return [
            Step("lint", 1, lambda: body("lint"), cache_key=key),
            Step("flaky", 1, lambda: body("flaky"), cache_key=key),
        ]

    run_pipeline("t", make(1), cache=cache)
    second = run_pipeline("t", make(1), cache=cache)
    assert calls == ["lint", "flaky", "flaky"] or sorted(calls) == ["flaky", "flaky", "lint"]
    assert second.results[0].summary.startswith("lint ran (remembered: nothing it depends on changed since ")
    assert second.results[1].status == FAILED
    (tmp_path / "src" / "a.py").write_text("x = 2\n")
    calls.clear()
    third = run_pipeline("t", make(0), cache=cache)
    assert sorted(calls) == ["flaky", "lint"] and third.exit_code == 0


def test_a_cached_dependency_declared_after_its_dependent_still_unblocks_it(tmp_path: Path) -> None:
    cache = _records(tmp_path)
    steps = [
        Step("uses", 1, lambda: _ok("used"), needs=("base",), cache_key=lambda: "k"),
        Step("base", 2, lambda: _ok("base"), cache_key=lambda: "k"),
    ]
    run_pipeline("t", steps, cache=cache)
    again = run_pipeline("t", steps, cache=cache)
    assert [r.status for r in again.results] == [PASSED, PASSED]
    assert all("(remembered: " in r.summary for r in again.results)
