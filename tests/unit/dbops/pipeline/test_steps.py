"""select_phase: one phase of full-check, with whatever its steps need, and nothing else."""

from __future__ import annotations

from dbops.pipeline import Outcome, Step
from dbops.pipeline.steps import PHASES, select_phase


def _step(name: str, phase: int, needs: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> Step:
    return Step(name, phase, lambda: Outcome(0, name), needs=needs, after=after)


STEPS = [
    _step("lint", 1),
    _step("consistency", 1),
    _step("reset-db", 2),
    _step("migrate", 2),
    _step("round-trip", 2, needs=("migrate",)),
    _step("blockers", 3),
    _step("integration-tests", 4, needs=("migrate", "consistency")),
    _step("smoke", 4, after=("reset-db",)),
]


def _names(phase: int) -> list[str]:
    return [s.name for s in select_phase(STEPS, phase)]


def test_a_phase_brings_what_its_steps_need_in_declaration_order() -> None:
    assert _names(4) == ["consistency", "reset-db", "migrate", "integration-tests", "smoke"]
    assert _names(2) == ["reset-db", "migrate", "round-trip"]


def test_a_phase_without_dependencies_is_only_itself() -> None:
    assert _names(3) == ["blockers"]
    assert _names(1) == ["lint", "consistency"]


def test_pulled_in_steps_keep_their_own_phase() -> None:
    assert {s.name: s.phase for s in select_phase(STEPS, 4)}["migrate"] == 2


def test_an_unknown_phase_selects_nothing_and_the_sprint_has_four() -> None:
    assert _names(9) == [] and sorted(PHASES) == [1, 2, 3, 4]
