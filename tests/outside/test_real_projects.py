"""Six real projects installed from PyPI, checked by dbops as a user runs it, next to their own `alembic check`.

Each project's venv (``real_venvs``: uv, exact pins, made once per machine) runs the project's code;
dbops runs from this checkout (the ``dbops`` command beside ``sys.executable``) with ``--python`` naming
that venv, a ``DATABASE_URL`` that names the project's driver, in a copy of ``real/NAME``. Every finding
each task reports must be one ``real_findings`` judged (none unjudged, so no unknown false finding), each
judged pattern must match as many lines as it says (so every true finding listed is reported), a drift
seeded through the project's metadata must be caught, and the venv's packages must be the same afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from real_cases import ALEMBIC, CLEAN, FINDINGS, NOT_CHECKED, TASKS, Expect, RealProject, Run
from real_findings import REAL
from real_venvs import DATA, UV, project_python

from dbops.core.dburl import URL
from dbops.core.urls import plain_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DBOPS = Path(sys.executable).with_name("dbops")
_ROUND_TRIP_LINE = re.compile(r"^(\S+): (\S+): (.*) \(fix: .*\)$")


def _freeze(python: Path) -> str:
    return subprocess.run([UV, "pip", "freeze", "--python", str(python)], capture_output=True, text=True).stdout


def _toml(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    return str(value)


def _configure(root: Path, run: Run, extra_models: tuple[str, ...] = ()) -> dict[str, object]:
    """Rewrite [tool.dbops] for this run: its settings changed, its modules appended to ``models``."""
    table: dict[str, object] = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["dbops"]
    for key, value in run.settings.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    models = [*table.get("models", []), *run.models, *extra_models]  # type: ignore[misc]
    if models:
        table["models"] = models
    (root / "pyproject.toml").write_text("[tool.dbops]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items()))
    return table


class Project:
    """A copy of real/NAME run the way a user runs dbops on it."""

    def __init__(self, case: RealProject, python: Path, root: Path, env: dict[str, str]) -> None:
        self.case, self.python, self.root, self.env = case, python, root, env

    def dbops(self, args: list[str], url: URL) -> subprocess.CompletedProcess[str]:
        """``dbops ARGS --python VENV`` in the copy, DATABASE_URL naming ``url`` with the project's driver."""
        env = {**self.env, "DATABASE_URL": plain_url(url.set(drivername=f"postgresql+{self.case.driver}"))}
        return subprocess.run(
            [str(DBOPS), *args, "--python", str(self.python)],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    def task(self, task: str, url: URL) -> tuple[str, list[str]]:
        """A task's verdict and its findings, one ``"RULE OBJECT: MESSAGE"`` line each (errors only)."""
        if task == "migrate":
            run = self.dbops(["migrate"], url)
            assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stdout + run.stderr
            return (CLEAN, []) if run.returncode == 0 else (FINDINGS, [f"migrate: {_error_line(run)}"])
        if task == "round-trip":
            run = self.dbops(["round-trip"], url)
            return _round_trip(run)
        run = self.dbops([task, "--format", "json"], url)
        assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stdout + run.stderr
        result = json.loads(run.stdout)
        lines = [
            f"{f['rule']} {f['object']}: {f['message']}"
            for f in result["findings"]
            if f["severity"] == "error" and (task == "blockers" or not f["rule"].startswith("B"))
        ]
        if lines:  # consistency's own: the blocker scan's findings are the blockers task's
            return FINDINGS, lines
        reasons = sorted({entry["reason"] for entry in result["not_checked"]})  # what stopped the rules
        return (NOT_CHECKED, [f"not checked: {reason}" for reason in reasons]) if reasons else (CLEAN, [])

    def alembic_check(self, url: URL) -> tuple[str, list[str]]:
        """`alembic check` in the project's venv, through its env.py, on the database at ``url``."""
        plain = plain_url(url.set(drivername=f"postgresql+{self.case.driver}"))
        env = {**self.env, **dict.fromkeys(self.case.url_env, plain)}
        helper = [str(self.python), str(DATA / "alembic_check.py"), "alembic.ini", plain]
        run = subprocess.run(
            helper + (["--worker-thread"] if self.case.worker_thread else []),
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode in (0, 1), run.stdout + run.stderr
        return (CLEAN, []) if run.returncode == 0 else (FINDINGS, run.stdout.strip().splitlines())

    def baseline_sql(self, metadata: str) -> None:
        """baseline.sql: the DDL of the models' create_all, as the project makes a new database (a production dump)."""
        run = subprocess.run(
            [str(self.python), str(DATA / "schema_sql.py"), metadata],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
        (self.root / "baseline.sql").write_text(run.stdout)


def _error_line(run: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, run.stderr
    return lines[0].removeprefix("error: ").split(" (fix: ")[0]


def _round_trip(run: subprocess.CompletedProcess[str]) -> tuple[str, list[str]]:
    assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stdout + run.stderr
    if run.returncode == 0:
        return CLEAN, []
    lines = []
    for line in run.stdout.splitlines():
        found = _ROUND_TRIP_LINE.match(line)
        if found:
            lines.append(f"{found.group(2)} {found.group(1)}: {found.group(3)}")
        elif line.startswith("not checked: "):
            lines.append(line)
    assert lines, run.stdout + run.stderr
    return (NOT_CHECKED if all(line.startswith("not checked: ") for line in lines) else FINDINGS), lines


def judge(lines: list[str], expected: tuple[Expect, ...]) -> tuple[list[str], list[str]]:
    """(lines no expectation matches, expectations that do not match as many lines as they say)."""
    unjudged = [line for line in lines if not any(re.search(e.pattern, line) for e in expected)]
    counted = {e.pattern: sum(1 for line in lines if re.search(e.pattern, line)) for e in expected}
    miscounted = [
        f"{e.pattern}: {counted[e.pattern]} lines, not {e.count}" for e in expected if counted[e.pattern] != e.count
    ]
    return unjudged, miscounted


@pytest.fixture()
def real_project(tmp_path: Path) -> Callable[[RealProject], Project]:
    """real_project(case): a fresh copy of real/NAME with the project's venv (built once per machine)."""

    if os.environ.get("DBOPS_TEST_PROJECT_VENVS") == "0":
        pytest.skip("DBOPS_TEST_PROJECT_VENVS=0: the projects' own venvs are tested once per CI run, not per cell")

    def make(case: RealProject) -> Project:
        python = project_python(case.name, case.python)
        root = tmp_path / case.name
        shutil.copytree(DATA / case.name, root, ignore=shutil.ignore_patterns("__pycache__", "requirements.txt"))
        (tmp_path / "home").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_", "VIRTUAL_ENV"))}
        env.update({k: v.format(home=tmp_path / "home") for k, v in case.env.items()})
        return Project(case, python, root, env)

    return make


@pytest.mark.parametrize("case", REAL, ids=[c.name for c in REAL])
def test_real_project(
    case: RealProject, real_project: Callable[[RealProject], Project], new_database: Callable[[str], URL]
) -> None:
    """Every task's verdict and findings, `alembic check`'s, the seeded drift caught, the venv unchanged."""
    project = real_project(case)
    shipped = (project.root / "pyproject.toml").read_text()
    before = _freeze(project.python)
    problems: dict[str, object] = {}
    # One copy for every run: what a run's settings do not change (the history, say) is built once.
    for run in case.runs:
        (project.root / "pyproject.toml").write_text(shipped)
        table = _configure(project.root, run)
        if run.dump:
            project.baseline_sql(str(table["metadata"]))
        db = new_database(f"r_{case.name[:8]}_{run.label[:8]}")
        for task in (*TASKS, ALEMBIC):
            if task not in run.verdicts:
                continue
            verdict, lines = project.alembic_check(db) if task == ALEMBIC else project.task(task, db)
            unjudged, miscounted = judge(lines, run.findings.get(task, ()))
            if verdict != run.verdicts[task] or unjudged or miscounted:
                problems[f"{run.label} {task}"] = {"verdict": verdict, "unjudged": unjudged, "miscounted": miscounted}
    if case.drift:  # the last run's settings, drift.py imported after its models (its baseline predates it)
        (project.root / "pyproject.toml").write_text(shipped)
        _configure(project.root, case.runs[-1], ("drift",))
        verdict, lines = project.task("consistency", new_database(f"r_{case.name[:8]}_drift"))
        if verdict != FINDINGS or not any(re.search(case.drift, line) for line in lines):
            problems["drift"] = {"verdict": verdict, "lines": lines}
    assert not problems, json.dumps(problems, indent=1)
    assert _freeze(project.python) == before  # dbops installed nothing into the project's environment


def test_a_finding_nobody_judged_or_a_count_that_differs_is_reported() -> None:
    """The judge the real projects are held to: an unknown line, a pattern matched too few or too many times."""
    expected = (Expect("^C3-columns a.x: "), Expect("^R1-roundtrip r1: ", 2))
    lines = ["C3-columns a.x: differs", "R1-roundtrip r1: left", "C1-model-table b: missing"]
    assert judge(lines, expected) == (["C1-model-table b: missing"], ["^R1-roundtrip r1: : 1 lines, not 2"])
    assert judge([lines[0], lines[1], lines[1]], expected) == ([], [])
