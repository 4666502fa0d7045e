"""One definition of "nothing changed": the same edit is a hit or a miss on every path that skips work.

The paths: a template (lifecycle), a reset (`reset-db`, whose warm case is a template reused), the
consistency verdict (`invoke consistency`, the same record as full-check's consistency step) and
full-check's step cache (the migrate step). Each is asked before and after one edit.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import make_project
from test_template_identity import _edit as edit

from dbops.cache.steps import StepRecords
from dbops.cache.store import SETTLE_NS
from dbops.commands import db, verdict
from dbops.core import database
from dbops.core.config import Settings, load_settings
from dbops.core.dburl import URL
from dbops.lifecycle.templates import ensure_template
from dbops.pipeline import run_pipeline
from dbops.pipeline.steps import build_steps, run_context, step_consistency

MODELS = '''"""Models of the tiny project."""

import sqlalchemy as sa

metadata = sa.MetaData()
things = sa.Table("things", metadata, sa.Column("id", sa.Integer, primary_key=True))


def label():
    return "a"
'''


@pytest.fixture()
def tiny(
    tmp_path: Path, dbops_settings: Settings, pg_server: URL, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """A tiny project on the suite's server (its cache folder too: the embedded cluster lives there)."""
    if dbops_settings.resolved_backend != "embedded":
        pytest.skip("the reset path starts the suite's embedded server")
    root = make_project(tmp_path / "tiny", models=MODELS)
    for key in ("DATABASE_URL", "DBOPS_BACKEND", "PYTHONPATH"):
        monkeypatch.delenv(key, raising=False)
    name = f"tiny{uuid.uuid4().hex[:8]}"
    settings = load_settings(root).replace(database=name, cache_dir=dbops_settings.cache_dir, backend="embedded")
    # A file changed just before the work may have changed during it: nothing is remembered. Let them settle.
    time.sleep(2 * SETTLE_NS / 1e9)
    yield settings
    for found in database.list_databases(pg_server):
        if name in found:
            database.drop(pg_server, found, disposable=(found,))


def _oid(server: URL, name: str) -> int:
    with database.admin(server) as conn:
        row = conn.execute("SELECT oid FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert row is not None, name
    return int(row[0])


def _paths(settings: Settings, server: URL) -> dict[str, Callable[[], object]]:
    """Each path's observable answer; equal answers before and after an edit mean the work was reused."""

    def template() -> object:
        name = ensure_template(settings, server)
        return name, _oid(server, name)  # a template built again is a new database, even under the same name

    def reset() -> object:
        made = db.reset(settings, revision="r1", seed=False)
        assert made.template is not None
        return made.template, _oid(server, made.template)

    def consistency() -> object:
        result, note = verdict.consistency(settings)
        assert result.ok, result.findings
        return note is not None

    def step() -> object:
        with run_context(settings) as ctx:
            ctx.records = StepRecords(settings)
            migrate = [s for s in build_steps(ctx) if s.name == "migrate"]
            done = run_pipeline("t", migrate, cache=ctx.records).results[0]
        assert done.status == "passed", done.summary
        return "(remembered: " in done.summary

    return {"template": template, "reset-db": reset, "consistency": consistency, "full-check step": step}


def _edit(rel: str, old: str, new: str) -> Callable[[Settings, pytest.MonkeyPatch], None]:
    return lambda settings, _: edit(rel, old, new)(settings.root)


def _new_file(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    (settings.root / "helpers.py").write_text("HELP = 1\n")


def _installed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    site = settings.root.parent / "lib" / "site-packages"
    (site / "sqlalchemy_utils-0.41.2.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])


def _variable(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@elsewhere.invalid/other")


CHANGES = {
    "a comment in the models": (_edit("models.py", "def label", "# why\ndef label"), True),
    "a function body in the models": (_edit("models.py", 'return "a"', 'return "b"'), False),
    "a new Python file": (_new_file, False),
    "a revision's docstring": (_edit("migrations/versions/r1.py", '"""r1"""', '"""r1, explained"""'), False),
    "DATABASE_URL": (_variable, False),
    "an installed library's version": (_installed, False),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_one_edit_is_the_same_hit_or_miss_on_every_path(
    tiny: Settings, pg_server: URL, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _paths(tiny, pg_server)
    for run in paths.values():
        run()  # built, run and remembered
    time.sleep(0.05)
    before = {name: run() for name, run in paths.items()}
    assert before["consistency"] is True and before["full-check step"] is True  # nothing changed: all reused
    mutate, reused = CHANGES[change]
    mutate(tiny, monkeypatch)
    after = {name: run() for name, run in paths.items()}
    hits = {name: (after[name] == before[name]) for name in paths}
    assert hits == dict.fromkeys(paths, reused)


def test_full_checks_consistency_step_reuses_the_commands_verdict(tiny: Settings) -> None:
    assert verdict.consistency(tiny)[1] is None  # run, and remembered
    _, note = verdict.consistency(tiny)
    assert note is not None and note.startswith("consistency: clean (remembered: nothing it depends on changed since ")
    with run_context(tiny) as ctx:
        ctx.records = StepRecords(tiny)
        outcome = step_consistency(ctx)
    assert outcome.code == 0 and "(remembered: " in outcome.summary
    assert ctx._target is None  # the verdict needed no server
