"""The steps of `full-check` and of the four sprint phases, built from the project's settings."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops import lifecycle, migrations
from dbops.cache.inputs import code_key, files_key
from dbops.cache.steps import StepRecords
from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import NotChecked
from dbops.core.findings import Finding
from dbops.core.locks import file_lock
from dbops.core.procs import run_child
from dbops.core.urls import is_local, mask_text, with_database
from dbops.pipeline.reviewstep import step_review, with_base
from dbops.pipeline.runner import Outcome, Step, run_pipeline
from dbops.pipeline.summary import ProgressPrinter, render_summary, write_json, write_junit
from dbops.project.runner import call_project

RUN_PREFIX = "_run"
# full-check's steps come in the sprint's four phases (`invoke phase N` runs one).
PHASES = {
    1: "consistency tests",
    2: "migrations",
    3: "blockers",
    4: "end-to-end verification",
}


def run_prefix(settings: Settings) -> str:
    """The name prefix of a run's databases; the project part is cut so pid and purpose always fit in 63."""
    return f"{settings.database[:30]}{RUN_PREFIX}"


@dataclass
class RunContext:
    """One pipeline run: its settings, its server and the databases it made (dropped at the end)."""

    settings: Settings
    junit_dir: Path | None = None
    run_id: str = field(default_factory=lambda: str(os.getpid()))
    _target: lifecycle.Target | None = None
    created: list[str] = field(default_factory=list)
    # Test steps rerun only the tests a change can affect (dbops.pipeline.testmonstep); off under --no-cache.
    select_tests: bool = False
    # What the steps loaded and passed with (dbops.cache); None under --no-cache.
    records: StepRecords | None = None

    @property
    def target(self) -> lifecycle.Target:
        """The server, started on first use."""
        if self._target is None:
            self._target = lifecycle.target(self.settings)
        return self._target

    def db_name(self, purpose: str) -> str:
        """A database name private to this run, so concurrent runs never collide."""
        name = f"{run_prefix(self.settings)}{self.run_id}_{purpose}"
        if name not in self.created:
            self.created.append(name)
        return name

    def fresh_db(self, purpose: str) -> URL:
        """A new empty database for this run."""
        name = self.db_name(purpose)
        database.drop(self.target.server, name, disposable=(name,))  # made by this run: ours to drop
        return database.create(self.target.server, name)

    def child_env(self) -> dict[str, str]:
        """Environment for subprocess steps: same server, no stray settings."""
        env = dict(os.environ)
        if self.settings.url:
            env["DATABASE_URL"] = self.settings.url
        if self.settings.backend:
            env["DBOPS_BACKEND"] = self.settings.backend
        return env


def sweep_stale_runs(ctx: RunContext) -> list[str]:
    """Drop databases left by runs whose process is gone (an interrupted full-check)."""
    dropped: list[str] = []
    if not is_local(ctx.target.server):
        return dropped  # pids of another host's runs mean nothing here
    prefix = run_prefix(ctx.settings)
    for name in database.list_databases(ctx.target.server, prefix):
        pid = name[len(prefix) :].split("_", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            database.drop(ctx.target.server, name, disposable=(name,))
            dropped.append(name)
    return dropped


@contextlib.contextmanager
def run_context(settings: Settings, junit_dir: Path | None = None) -> Iterator[RunContext]:
    """A RunContext whose databases are dropped afterwards, even on Ctrl-C."""
    ctx = RunContext(settings, junit_dir)
    try:
        yield ctx
    finally:
        if ctx._target is not None:
            for name in ctx.created:
                with contextlib.suppress(Exception):
                    database.drop(ctx.target.server, name, disposable=(name,))


# -- step bodies -----------------------------------------------------------------------------------
# Lines that summarise a tool's run (pytest, ruff, mypy), preferred over whatever came last.
_SUMMARY = re.compile(
    r"(\d+ (passed|failed|errors?)\b|^Found \d+ error|^Success:|files? (already formatted|would be)|"
    r"All checks passed)",
    re.I,
)


def _tail(text: str) -> str:
    kept = [ln.strip(" =") for ln in text.strip().splitlines() if ln.strip()]
    summary = [ln for ln in kept if _SUMMARY.search(ln)]
    return ((summary or kept or [""])[-1])[:300]


def _command(ctx: RunContext, args: Sequence[str], name: str, env: dict[str, str] | None = None) -> Outcome:
    """Run a tool as a subprocess in the project root, with ``env`` added; its last line is the summary."""
    try:
        code, raw = run_child(args, ctx.settings.root, {**ctx.child_env(), **(env or {})})
    except FileNotFoundError:
        return Outcome(2, f"{args[0]} is not installed")
    output = mask_text(raw)
    if name.endswith("tests") and code == 5:  # pytest: no tests collected is not a failure of the code
        code = 0
    if code < 0:  # killed by a signal: a failure, never a pass
        return Outcome(1, f"killed by signal {-code}: {_tail(output)}", output)
    return Outcome(min(code, 1) if code not in (2, 3) else code, _tail(output), output)


def _typecheck(ctx: RunContext, args: Sequence[str]) -> Outcome:
    # mypy's incremental cache is not safe for two writers: two full-checks of one checkout take turns.
    with file_lock(ctx.settings.cache_dir / "locks" / "mypy.lock", "waiting for another typecheck of this checkout"):
        return _command(ctx, args, "typecheck")


def _pytest(ctx: RunContext, path: str, name: str, extra: Sequence[str] = ()) -> Outcome:
    if not ctx.select_tests:
        return _command(ctx, _pytest_command(ctx, name, [path, *extra, "-p", "no:cacheprovider"]), name)
    from dbops.pipeline.testmonstep import select

    chosen = select(ctx.settings, name, path, extra)
    outcome = _command(ctx, _pytest_command(ctx, name, chosen.args), name, chosen.env)
    chosen.finish(outcome.code)
    none_left = chosen.narrowed and outcome.summary.startswith("no tests ran")
    note = "no test affected by the changes, per pytest-testmon" if none_left else chosen.note
    return Outcome(outcome.code, f"{outcome.summary} ({note})", outcome.output)


def _pytest_command(ctx: RunContext, name: str, args: Sequence[str]) -> list[str]:
    junit = [f"--junitxml={ctx.junit_dir / (name + '.xml')}"] if ctx.junit_dir else []
    return [sys.executable, "-m", "pytest", "-q", *args, *junit]


def _findings_outcome(findings: Sequence[Finding], what: str) -> Outcome:
    from dbops.report import finding_line, summarize_findings

    errors = [f for f in findings if f.severity == "error"]
    if not findings:
        return Outcome(0, f"{what}: clean")
    return Outcome(1 if errors else 0, summarize_findings(findings), "\n".join(finding_line(f) for f in findings))


def step_reset(ctx: RunContext) -> Outcome:
    """Reset this run's database from the template and seed it."""
    tgt = lifecycle.Target(ctx.target.server, ctx.db_name("main"))
    # What the seed prints (a generated demo password, say) must not end up in a pipeline's log.
    with contextlib.redirect_stdout(io.StringIO()):
        # The run's own database may be dropped even on a shared, non-local server.
        own = ctx.settings.replace(disposable=(*ctx.settings.disposable, tgt.name))
        result = lifecycle.reset(own, tgt, yes=True)  # named after this run: nobody else's to keep
    return Outcome(0, f"{result.strategy} reset in {result.seconds:.2f}s" + (", seeded" if result.seeded else ""))


def step_migrate(ctx: RunContext) -> Outcome:
    """Upgrade an empty database from base to head the plain Alembic way."""
    url = ctx.fresh_db("migrate")
    migrations.upgrade(ctx.settings, url, "head")
    revs = migrations.history(ctx.settings)
    return Outcome(0, f"{len(revs)} revisions applied, at {migrations.current(ctx.settings, url)}")


def step_consistency(ctx: RunContext) -> Outcome:
    """Run every consistency rule on a database built from the history alone (phase 1 needs no reset)."""
    from dbops.checks.consistency import history_verdict

    def target() -> lifecycle.Target:  # only its server: the copy is read-only
        return lifecycle.Target(ctx.target.server, ctx.settings.database)

    result, hit = history_verdict(ctx.settings, target, fresh=ctx.records is None)
    outcome = _findings_outcome(result.findings, "models, tables, enums and history agree")
    if result.not_checked:
        why = next(iter(result.not_checked.values()))
        return Outcome(1, f"{outcome.summary}; not checked: {len(result.not_checked)} rules ({why})", outcome.output)
    return Outcome(outcome.code, f"{outcome.summary} ({hit.note})", outcome.output) if hit else outcome


def step_round_trip(ctx: RunContext) -> Outcome:
    """Upgrade, downgrade and upgrade again, naming anything a downgrade leaves behind."""
    from dbops.migrations.roundtrip import round_trip

    try:
        found = round_trip(ctx.settings, ctx.fresh_db("roundtrip"))
    except NotChecked as exc:
        return Outcome(1, f"not checked: {exc.message}")
    return _findings_outcome(found, "every downgrade leaves no trace")


def step_blockers(ctx: RunContext) -> Outcome:
    """Scan the migration files for commented-out code, empty downgrades and TODOs."""
    from dbops.checks.blockers import scan_blockers

    return _findings_outcome(scan_blockers(ctx.settings), "no migration blockers")


def step_smoke(ctx: RunContext) -> Outcome:
    """Run the project's end-to-end smoke (settings.pipeline.smoke) against this run's seeded database."""
    if not ctx.settings.pipeline.smoke:
        return Outcome(0, "no smoke configured")
    if not database.exists(ctx.target.server, ctx.db_name("main")):
        return Outcome(1, "no database to verify: reset-db did not make one (see reset-db)")
    smoke = ctx.settings.pipeline.smoke
    url = with_database(ctx.target.server, ctx.db_name("main"))
    lines: list[tuple[str, bool, str]] = call_project(ctx.settings, url, smoke, f"the smoke ({smoke})") or []
    failed = [f"{name}: {detail}" for name, ok, detail in lines if not ok]
    output = "\n".join(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}" for name, ok, detail in lines)
    if failed:
        return Outcome(1, f"{len(failed)}/{len(lines)} features failed: " + "; ".join(failed[:3]), output)
    return Outcome(0, f"{len(lines)} features verified", output)


def build_steps(ctx: RunContext) -> list[Step]:
    """Every step of full-check, with the phase it belongs to, what it needs, and the inputs it depends on."""
    s = ctx.settings
    py = sys.executable
    where = [s.resolved_backend, s.url or "", s.pg_version or "", s.docker_image]

    def inputs(*patterns: str) -> Callable[[], str]:
        return lambda: files_key(s, [*patterns, "pyproject.toml"], where)

    def every() -> str:
        """Test steps: anything in the project may change their outcome, its Python by syntax tree (as for testmon)."""
        return files_key(s, [".", "pyproject.toml"], where, code=True)

    def loaded(name: str, run: Callable[[], Outcome]) -> dict[str, Any]:
        """An in-process step keyed like any result of the project's code (dbops.cache): inputs, then what it loaded."""
        wrapped = ctx.records.collected(name, run) if ctx.records is not None else run
        return {"run": wrapped, "cache_key": lambda: code_key(s, "step", name, where)}

    fast = ["-n", "2", "-m", "not slow and not docker"]
    return [
        Step(
            "lint",
            1,
            lambda: _command(ctx, [py, "-m", "ruff", "check", *s.pipeline.lint_paths], "lint"),
            cache_key=inputs(*s.pipeline.lint_paths),
        ),
        Step(
            "format",
            1,
            lambda: _command(ctx, [py, "-m", "ruff", "format", "--check", *s.pipeline.lint_paths], "format"),
            cache_key=inputs(*s.pipeline.lint_paths),
        ),
        Step(
            "typecheck",
            1,
            lambda: _typecheck(ctx, [py, "-m", "mypy", *s.pipeline.typecheck_paths]),
            cache_key=inputs(*s.pipeline.typecheck_paths),
        ),
        Step("unit-tests", 1, lambda: _pytest(ctx, s.pipeline.unit_tests, "unit-tests"), cache_key=every),
        # On a history-built database of its own: neither reset-db nor the seed can hide phase 1's answer.
        # Remembered like `consistency` (the same record): not by the step runner.
        Step("consistency", 1, lambda: step_consistency(ctx), exclusive=True),
        # Never cached: it makes this run's database, which consistency and smoke then use.
        Step("reset-db", 2, lambda: step_reset(ctx), exclusive=True),
        Step("migrate", 2, exclusive=True, **loaded("migrate", lambda: step_migrate(ctx))),
        Step("round-trip", 2, needs=("migrate",), exclusive=True, **loaded("round-trip", lambda: step_round_trip(ctx))),
        Step("blockers", 3, **loaded("blockers", lambda: step_blockers(ctx))),
        # Only the revisions new since the base ref: the history already applied is not judged again.
        Step("review", 3, exclusive=True, **with_base(s, loaded("review", lambda: step_review(s, ctx.target)))),
        # The fast subset: tests that start servers or processes are left to `invoke test --all`.
        Step(
            "integration-tests",
            4,
            lambda: _pytest(ctx, s.pipeline.integration_tests, "integration-tests", fast),
            # Models the migrations do not produce make every database test fail: one reason beats dozens.
            needs=("migrate", "consistency"),
            cache_key=every,
        ),
        # After reset-db whatever its outcome: a seed that fails on missing tables leaves the migrated database,
        # and the smoke then names, feature by feature, what does not work yet.
        Step("smoke", 4, after=("reset-db",), exclusive=True, **loaded("smoke", lambda: step_smoke(ctx))),
    ]


def select_phase(steps: list[Step], phase: int) -> list[Step]:
    """The steps of one phase plus everything they need (marked with their own phase)."""
    by_name = {st.name: st for st in steps}
    wanted = {st.name for st in steps if st.phase == phase}
    frontier = list(wanted)
    while frontier:
        step = by_name[frontier.pop()]
        for need in (*step.needs, *step.after):
            if need not in wanted:
                wanted.add(need)
                frontier.append(need)
    return [st for st in steps if st.name in wanted]


def run_and_report(
    settings: Settings,
    title: str,
    phase: int | None = None,
    fail_fast: bool = False,
    json_file: str | None = None,
    junit: str | None = None,
    no_cache: bool = False,
) -> int:
    """Run full-check (or one phase) with progress, print the summary, write reports; return the exit code."""
    junit_dir = Path(junit) if junit else None
    with run_context(settings, junit_dir) as ctx:
        ctx.select_tests = not no_cache
        ctx.records = None if no_cache else StepRecords(settings)
        sweep_stale_runs(ctx)  # databases of earlier runs that were killed outright
        chosen = build_steps(ctx)
        if phase:
            chosen = select_phase(chosen, phase)
        with ProgressPrinter() as progress:
            result = run_pipeline(
                title, chosen, fail_fast=fail_fast, on_event=progress, cache=ctx.records, phase_names=PHASES
            )
    render_summary(result)
    if json_file:
        write_json(result, Path(json_file))
    if junit_dir:
        write_junit(result, junit_dir)
    return result.exit_code
