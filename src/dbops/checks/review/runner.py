"""The migration review: the new revisions' SQL, run on copies at their parents, judged by the rules."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from dbops import lifecycle
from dbops.checks.review import allow, measure, rules, squawk
from dbops.checks.review.emit import OfflineSql
from dbops.checks.review.select import Selection, select
from dbops.core import database
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError, DbopsError, SeedFailed, command_hint
from dbops.core.findings import METRIC_KEYS, WARNING, CheckResult, Finding
from dbops.lifecycle import templates
from dbops.migrations.graph import History
from dbops.migrations.migrator import Migrator
from dbops.migrations.scriptdir import open_scripts, project_revision_files
from dbops.migrations.scripts import no_revisions

NOT_MEASURED = "M0-not-measured"
SQUAWK = "S-squawk"
RULE_IDS = [NOT_MEASURED, *rules.RULES.values(), SQUAWK]
DATA = (None, "seed", "dev")


@dataclass
class Review:
    """A review's result, what was reviewed and how, and the seconds each revision took."""

    result: CheckResult
    selection: Selection
    seconds: dict[str, float] = field(default_factory=dict)
    statements: int = 0


def _env_sets_lock_timeout(settings: Settings) -> bool:
    """True when env.py mentions lock_timeout (it sets one for every revision)."""
    env_py = os.path.join(open_scripts(settings).dir, "env.py")
    try:
        with open(env_py, encoding="utf-8") as handle:
            return bool(rules.LOCK_TIMEOUT.search(handle.read()))
    except OSError:
        return False


def _copy_name(settings: Settings, number: int) -> str:
    return f"{settings.database[:24]}_review_{os.getpid()}_{number}"


@contextlib.contextmanager
def _parent_copy(
    settings: Settings, tgt: lifecycle.Target, history: History, rev: str, data: str | None, number: int
) -> Iterator[tuple[URL, str]]:
    """A throwaway copy of the database at ``rev``'s parents (with the data asked for); a note when it lacks it."""
    downs = list(history.revisions[rev].downs)
    first = downs[0] if downs else "base"
    name = _copy_name(settings, number)
    note = ""
    if data == "dev":
        if not database.exists(tgt.server, tgt.name):
            raise ConfigError(f"--data dev: database {tgt.name!r} does not exist", f"run `{command_hint('reset-db')}`")
        try:  # a copy: the database itself is never touched
            url = database.create(tgt.server, name, template=tgt.name)
        except DbopsError as exc:
            raise ConfigError(
                f"--data dev: database {tgt.name!r} could not be copied: {exc.message.splitlines()[0]}",
                "PostgreSQL copies a database no one is connected to: close its sessions (the API, psql) first",
            ) from None
    else:
        build = (lambda u: lifecycle.seed(settings, u)) if data == "seed" else None
        try:
            tpl = templates.ensure_template(settings, tgt.server, first, build)
        except SeedFailed as exc:
            note = f"not checked with data: the seed does not load at {first} ({exc.message})"
            tpl = templates.ensure_template(settings, tgt.server, first)
        # The template's ready copy, renamed in milliseconds when there is one (the next is made in the background).
        url = templates.take_spare(tgt.server, tpl, name) or templates.clone(tgt.server, tpl, name)
        templates.prepare_spare_in_background(settings, tgt.server, tpl)
    try:
        if data == "dev" or len(downs) > 1:
            _bring_to(settings, url, history, downs)
        yield url, note
    finally:
        database.drop(tgt.server, name, disposable=(name,))


def _bring_to(settings: Settings, url: URL, history: History, downs: list[str]) -> None:
    """Upgrade (or, for a copy already past them, downgrade) the copy at ``url`` to exactly ``downs``."""
    m = Migrator(settings, url)
    try:
        heads = list(m.heads())
        past = history.ancestors(heads) - set(downs)
        if heads and len(downs) <= 1 and set(downs) <= history.ancestors(heads) and past - history.ancestors(downs):
            m.downgrade(downs[0] if downs else "base")  # the copy is past the parent: the revision was applied there
            return
        for down in downs:
            m.upgrade(down)
    finally:
        m.close()


def _view(settings: Settings, url: URL) -> None:
    """Run env.py once on ``url``, changing nothing: the version folders it chooses are remembered."""
    m = Migrator(settings, url)
    try:
        m.view()
    finally:
        m.close()


def _online(settings: Settings, url: URL, rev: str, version_table: str) -> measure.Run:
    """The revision run online by the project's Alembic, measured from outside: rewrites, drops, failures."""
    stmt = measure.Statement("(the whole revision, run online by Alembic)", None, False)
    m = measure.Measured(stmt, outside=True)
    run = measure.Run([m])
    with database.connect(url) as conn:
        probe = measure.Probe(conn, {version_table})
        before = probe.snapshot()
        started = time.perf_counter()
        migrator = Migrator(settings, url)
        try:
            migrator.step(rev, True)
        except DbopsError as exc:
            m.error = exc.message
        finally:
            migrator.close()
        m.seconds = m.held = time.perf_counter() - started
        measure.compare(probe, m, before, probe.snapshot())
    return run


def _squawk(
    stmts: list[measure.Statement], run: measure.Run, found: list[Finding], ctx: rules.Context
) -> list[Finding]:
    """squawk's findings on the statements, folded into the measured ones (see :mod:`squawk`)."""
    out = list(found)
    for said in squawk.run(stmts, run.server_version):
        stmt = stmts[said.statement]
        where = f"{ctx.where}:{stmt.line}" if stmt.line else ctx.where
        code = squawk.MEASURED.get(said.rule)
        same = [i for i, f in enumerate(out) if f.object == where and f.code in (code, "M11") and code]
        if same:
            f = out[same[0]]
            if f"squawk: {said.rule}" not in f.message:
                out[same[0]] = Finding(f.rule, f.severity, f.object, f"{f.message} (squawk: {said.rule})", f.hint)
            continue
        if code:
            continue  # squawk guessed a hazard PostgreSQL showed no sign of: the measurement decides
        message = f"{ctx.revision}: `{rules.short(stmt.sql)}`: {said.message} (squawk: {said.rule})"
        fix = said.help or f"if it is meant, accept it: # dbops: allow S-{said.rule} <why>"
        out.append(Finding(f"S-{said.rule}", "error", where, message, fix))
    return out


def review(
    settings: Settings,
    tgt: lifecycle.Target | None = None,
    *,
    base: str | None = None,
    since: str | None = None,
    everything: bool = False,
    data: str | None = None,
) -> Review:
    """Review the revisions ``base`` / ``since`` / ``everything`` choose, each on a copy at its parents."""
    if data not in DATA:
        raise ConfigError(f"--data {data!r} is not a kind of data", "use --data seed or --data dev")
    history = History.read(project_revision_files(settings))
    if not history:  # env.py may choose its folders when it runs: learn them once, then read again
        tgt = tgt or lifecycle.target(settings)
        with lifecycle.empty_database(tgt, "review") as url:
            _view(settings, url)
        history = History.read(project_revision_files(settings))
    if not history:
        empty = Selection([], "no revisions")
        return Review(CheckResult(rules=RULE_IDS, not_checked={NOT_MEASURED: no_revisions(settings)}), empty)
    chosen = select(settings.root, history, base, since, everything)
    result = CheckResult(rules=RULE_IDS, unmeasured=set(METRIC_KEYS))
    done = Review(result, chosen)
    if not chosen.revisions:
        return done
    tgt = tgt or lifecycle.target(settings)
    first = (history.revisions[chosen.revisions[0]].downs or ("base",))[0]
    server = tgt.server

    def reader() -> URL:  # made only when the project's interpreter has something to emit
        return templates.reader_copy(settings, server, templates.ensure_template(settings, server, first))

    offline = OfflineSql(settings, reader, history, chosen.revisions)
    try:
        _review_each(settings, tgt, history, chosen, data, offline, done)
    finally:
        offline.join()
    return done


def _review_each(
    settings: Settings,
    tgt: lifecycle.Target,
    history: History,
    chosen: Selection,
    data: str | None,
    offline: OfflineSql,
    done: Review,
) -> None:
    """Measure each chosen revision on a copy at its parents, in history order."""
    result = done.result
    in_env = _env_sets_lock_timeout(settings)
    created: set[str] = set()
    for number, rev in enumerate(chosen.revisions):
        started = time.perf_counter()
        revision = history.revisions[rev]
        where = os.path.relpath(revision.path, settings.root)
        parent = ",".join(revision.downs) or "base"
        ctx = rules.Context(rev, where, parent, data, in_env, set(created), allow_tables=settings.allow_tables)
        found: list[Finding] = []
        with _parent_copy(settings, tgt, history, rev, data, number) as (url, note):
            if note:
                found.append(Finding(NOT_MEASURED, WARNING, where, f"{rev}: {note}", "make the seed load there"))
            emitted = offline.get()[rev]
            if isinstance(emitted, dict) and not emitted.get("ran"):
                emitted = "env.py did not run the migrations in offline mode"
            if isinstance(emitted, str):
                run = _online(settings, url, rev, settings.version_table)
                stmts: list[measure.Statement] = []
                found.append(
                    Finding(
                        NOT_MEASURED,
                        WARNING,
                        where,
                        f"{rev}: locks and scans not measured: Alembic could not emit its SQL offline ({emitted}); "
                        "rewrites, drops and failures were measured on an online run",
                        "keep data reads out of upgrade() (op.get_bind()) or emit SQL offline-safe",
                    )
                )
            else:
                stmts, version = measure.statements(emitted["statements"])
                exclude = {settings.version_table, *version}
                run = measure.run_statements(url, stmts, exclude, count_rows=data is not None)
            found += rules.findings(run, ctx)
            if stmts:
                try:
                    found = _squawk(stmts, run, found, ctx)
                except (FileNotFoundError, RuntimeError) as exc:
                    result.not_checked[SQUAWK] = str(exc)
        if chosen.one_change:
            created |= run.created  # what the change created is not the previous release's
        allowed = {**allow.from_settings(settings.review_allow, rev), **allow.from_file(revision.path)}
        result.findings += allow.apply(found, allowed)
        done.statements += len(run.measured)
        done.seconds[rev] = time.perf_counter() - started
