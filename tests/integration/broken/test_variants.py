"""Every broken variant is diagnosed by every entry point: non-zero, the broken object named, no traceback, no SQL."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from variants import VARIANTS, Variant, make

from dbops.core import database
from dbops.core.dburl import URL
from dbops.core.urls import libpq_url, plain_url, with_database
from dbops.lifecycle import templates

# What a one-line error or a summary cell must never carry: SQL statements or their bound values.
SQL = re.compile(r"\[SQL:|\[parameters:|\bINSERT INTO\b|\bSELECT .* FROM\b|\bCREATE TABLE\b", re.I)


def _run(root: Path, db: URL, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    env.update({"DATABASE_URL": plain_url(db), "PYTHONPATH": str(root / "src")})
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )


def _clean(run: subprocess.CompletedProcess[str]) -> str:
    text = run.stdout + run.stderr
    assert "Traceback" not in text, text[-3000:]
    assert not SQL.search(text), text[-3000:]
    return text


@dataclass(frozen=True)
class Broken:
    """A broken copy, its database, and what every command must name."""

    variant: Variant
    root: Path
    db: URL
    expect: tuple[str, ...]


@pytest.fixture()
def project(request: pytest.FixtureRequest, tmp_path: Path, pg_server: URL) -> Iterator[Broken]:
    """The variant's copy, what must be named, and a database of its own on the test server (dropped afterwards)."""
    variant: Variant = request.param
    name = f"bv_{uuid.uuid4().hex[:8]}"
    root, expected = make(variant, tmp_path / variant.name, name)
    yield Broken(variant, root, with_database(pg_server, name), expected)
    for leftover in database.list_databases(pg_server, name) + database.list_databases(
        pg_server, f"{templates.TEMPLATE_PREFIX}{name}"
    ):
        database.drop(pg_server, leftover, disposable=(leftover,))


@pytest.mark.parametrize("project", VARIANTS, ids=[v.name for v in VARIANTS], indirect=True)
def test_consistency_alone_then_after_a_reset(project: Broken) -> None:
    """`invoke consistency` needs nothing prepared; after `invoke reset-db` it says the same."""
    variant, root, db, expect = project.variant, project.root, project.db, project.expect
    first = _run(root, db, "consistency")
    assert first.returncode == 1, _clean(first)
    for needle in expect:
        assert needle in _clean(first), (needle, first.stdout + first.stderr)
    reset = _run(root, db, "reset-db")
    assert reset.returncode in (0, 1), _clean(reset)
    if variant.history or variant.name == "seed-writes-missing-table":
        assert reset.returncode == 1
        assert any(needle in _clean(reset) for needle in expect), reset.stderr
    again = _run(root, db, "consistency")
    assert again.returncode == 1
    assert all(needle in _clean(again) for needle in expect)


@pytest.mark.parametrize("project", VARIANTS, ids=[v.name for v in VARIANTS], indirect=True)
def test_full_check_runs_consistency_and_names_the_break(project: Broken, tmp_path: Path) -> None:
    """full-check exits 1; its consistency step ran (never skipped) and names the break; no SQL in the summary."""
    root, db, expect = project.root, project.db, project.expect
    summary = tmp_path / "summary.json"
    run = _run(root, db, "full-check", "--json", str(summary))
    assert run.returncode == 1, _clean(run)
    _clean(run)
    steps = {s["name"]: s for s in json.loads(summary.read_text())["steps"]}
    assert steps["consistency"]["status"] == "failed"
    cells = " ".join(str(s["summary"]) for s in steps.values())
    assert not SQL.search(cells), cells
    assert all(needle in steps["consistency"]["summary"] or needle in run.stdout for needle in expect)
    for step in steps.values():
        if step["status"] == "skipped" and step["caused_by"]:
            assert steps[step["caused_by"]]["status"] == "failed"


def test_a_stale_alembic_version_row_is_named(tmp_path: Path, pg_server: URL) -> None:
    """The database names a revision no file defines: --live and migrate say which, and how to fix it."""
    name = f"bv_{uuid.uuid4().hex[:8]}"
    root, _ = make(VARIANTS[0], tmp_path / "stale", name)  # any copy: the break is in the database
    db = with_database(pg_server, name)
    try:
        assert _run(root, db, "migrate").returncode == 0
        with psycopg.connect(libpq_url(db), autocommit=True) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '0010_deleted_since'")
        live = _run(root, db, "consistency", "--live")
        assert live.returncode == 1 and "0010_deleted_since" in _clean(live)
        migrate = _run(root, db, "migrate")
        assert migrate.returncode != 0 and "0010_deleted_since" in _clean(migrate)
    finally:
        database.drop(pg_server, name, disposable=(name,))
