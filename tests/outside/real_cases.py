"""Six real projects from PyPI, what dbops and `alembic check` report on each, and which of it is true.

Each finding a tool reports on a real project is matched against the lines below: every line must match
one of them (a line none matches is a finding nobody judged: the test fails), and every one of them must
be matched (a true finding dbops or alembic missed). A pattern is a regular expression searched in
``"RULE OBJECT: MESSAGE"`` for dbops and in alembic's one-line drift for ``alembic check``; ``false`` marks
a finding that is wrong, and the README counts both (the table is generated from this module).

Decided, and counted as true: a constraint or index that the history names otherwise than the models
(C4 "is named X in the database"): revisions refer to constraints by name (Airflow's own 0064 downgrade
fails on such a name), so the two databases differ in a way a later migration can trip over; the table
shows how many of the true findings are such name-only differences. A ``pass`` downgrade that a project
chose (PostgreSQL cannot drop an enum label; Airflow's 0118 "no downgrade needed") is what B2 and R1
report by definition and is counted as true.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CLEAN, FINDINGS, NOT_CHECKED, SKIPPED = "clean", "findings", "not checked", "skipped"
# The dbops tasks in the order they run; `alembic check` runs last, on migrate's database.
TASKS = ("migrate", "blockers", "round-trip", "consistency")
ALEMBIC = "alembic check"


@dataclass(frozen=True)
class Expect:
    """Findings a tool reports: a pattern their lines match, how many lines; ``true`` unless they are wrong."""

    pattern: str
    count: int = 1
    true: bool = True
    names_only: bool = False  # C4: the same constraint or index, named otherwise in the database


@dataclass(frozen=True)
class Run:
    """One configuration of a project and the verdict and findings expected of each task in it (a task left
    out is not run in this configuration)."""

    label: str
    verdicts: dict[str, str]
    findings: dict[str, tuple[Expect, ...]] = field(default_factory=dict)
    models: tuple[str, ...] = ()  # modules appended to ``models``
    settings: dict[str, object] = field(default_factory=dict)  # [tool.dbops] keys changed (None: removed)
    dump: bool = False  # write baseline.sql first: the models' DDL, as the project makes a new database


@dataclass(frozen=True)
class RealProject:
    """A project under tests/outside/real: its pins, what it covers, how it is run, what each run must say."""

    name: str
    pin: str
    covers: str
    driver: str
    runs: tuple[Run, ...]
    drift: str  # the finding the seeded drift (drift.py, imported after the models) must raise
    skipped: dict[str, str] = field(default_factory=dict)  # task -> why it is not run at all
    env: dict[str, str] = field(default_factory=dict)  # variables the project reads ({home}: a fresh folder)
    url_env: tuple[str, ...] = ()  # variables the alembic check helper must set to the URL (env.py reads them)
    worker_thread: bool = False
    python: str = "3.11"


ALL = dict.fromkeys((*TASKS, ALEMBIC), CLEAN)
HISTORY = dict.fromkeys(TASKS, FINDINGS)  # a history that does not build the schema: every task says so


def b2(*files: str) -> tuple[Expect, ...]:
    """One B2 finding per revision file named (a downgrade() that is pass where upgrade() changes the schema)."""
    return tuple(Expect(rf"^B2-downgrade \S+/{re.escape(f)}[^/]*\.py:\d+: downgrade\(\) does nothing$") for f in files)


def r1(revision: str, what: str, count: int = 1) -> Expect:
    """A round-trip finding: the downgrade of ``revision`` left ``what`` (a regular expression)."""
    return Expect(rf"^R1-roundtrip {revision}: downgrade of {revision} did not restore the schema: {what}", count)


def named(model: str, database: str) -> Expect:
    """C4: the models' constraint or index, under another name in the database (counted as true, names only)."""
    return Expect(rf"^C4-constraints {model}: .* is named {database} in the database$", names_only=True)


def _cell(run: Run, task: str) -> str:
    if task not in run.verdicts:
        return ""
    expected = run.findings.get(task, ())
    count = sum(e.count for e in expected)
    return run.verdicts[task] + (f" ({count})" if count else "")


def _tally(run: Run, tasks: tuple[str, ...]) -> str:
    expected = [e for task in tasks if task in run.verdicts for e in run.findings.get(task, ())]
    true = sum(e.count for e in expected if e.true)
    names = sum(e.count for e in expected if e.true and e.names_only)
    false = sum(e.count for e in expected if not e.true)
    return f"{true} / {false}" + (f" ({names} names only)" if names else "")


def real_table(projects: tuple[RealProject, ...]) -> str:
    """The README's table of the real projects: each task's verdict (findings), true / false per tool."""
    head = "| project | run | " + " | ".join((*TASKS, ALEMBIC)) + " | dbops true / false | alembic check true / false |"
    rule = "|" + "---|" * (len(TASKS) + 5)
    rows = []
    for case in projects:
        for run in case.runs:
            cells = [_cell(run, task) or ("skipped" if task in case.skipped else "") for task in (*TASKS, ALEMBIC)]
            alembic = _tally(run, (ALEMBIC,)) if ALEMBIC in run.verdicts else ""
            rows.append(
                f"| {case.name} | {run.label} | " + " | ".join(cells) + f" | {_tally(run, TASKS)} | {alembic} |"
            )
    return "\n".join([head, rule, *rows])
