"""Remembered consistency verdicts: printed only while nothing the verdict depends on changed."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import REVISION, invoke, make_project
from sqlalchemy.engine import URL

from dbops.commands import check, verdicts
from dbops.core import database
from dbops.core.config import Settings, load_settings


@pytest.fixture()
def tiny(
    tmp_path: Path, dbops_settings: Settings, pg_server: URL, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """A tiny project on the suite's server (its cache directory and backend), with a database of its own."""
    root = make_project(tmp_path / "tiny")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "models", raising=False)  # another tiny project's, from an earlier test
    for key in ("DATABASE_URL", "DBOPS_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    settings = load_settings(root).replace(
        database=f"tiny{uuid.uuid4().hex[:8]}",
        cache_dir=dbops_settings.cache_dir,
        backend=dbops_settings.resolved_backend,
        url=dbops_settings.url,
        pg_version=dbops_settings.pg_version,
        docker_image=dbops_settings.docker_image,
    )
    yield settings
    verdicts.forget(settings)
    for name in database.list_databases(pg_server):
        if settings.database in name:
            database.drop(pg_server, name, disposable=(name,))


def _pass(settings: Settings, rules: list[str] | None = None) -> None:
    """A consistency run that passes every rule, remembered as the command remembers it."""
    result = check.consistency(settings, rules=rules)
    assert result.ok, result.findings
    verdicts.remember(settings, rules, None, result)


Change = Callable[[Settings, pytest.MonkeyPatch], None]


def _append(path: str, text: str = "\n# edited\n") -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        file = settings.root / path
        file.write_text(file.read_text() + text)

    return change


def _new_revision(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = settings.root / "migrations" / "versions"
    (versions / "r2.py").write_text(REVISION.format(doc="r2", rev="r2", down=repr("r1"), table="others"))


def _env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBOPS_IDLE_STOP", "999")


def _record_field(field: str, value: object) -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        (path,) = verdicts.records(settings)
        body = json.loads(path.read_text())
        section, _, key = field.partition(".")
        if key:
            body[section][key] = value
        else:
            body[section] = value
        path.write_text(json.dumps(body))

    return change


def _dbops_module(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # A changed rule (dbops upgraded, or edited in place) is a changed input.
    (path,) = verdicts.records(settings)
    body = json.loads(path.read_text())
    rule = next(m for m in body["modules"] if m.endswith("c1_model_table.py"))
    body["inputs"][rule] = "0" * 20
    path.write_text(json.dumps(body))


CHANGES: dict[str, Change] = {
    "a model module edited": _append("models.py", "\n# a comment is a change too\n"),
    "a revision file edited": _append("migrations/versions/r1.py"),
    "a revision added": _new_revision,
    "env.py edited": _append("migrations/env.py"),
    "alembic.ini edited": _append("alembic.ini"),
    "pyproject.toml edited": _append("pyproject.toml"),
    "a DBOPS_ variable set": _env,
    "a dbops rule changed": _dbops_module,
    "a library upgraded": _record_field("dists.sqlalchemy", "0.0.1"),
    "a rule plug-in installed": _record_field("plugins", ["dbops-extra-rules==1"]),
}


def test_an_unchanged_project_gets_the_remembered_verdict(tiny: Settings) -> None:
    assert verdicts.lookup(tiny, None, None) is None
    _pass(tiny)
    remembered = verdicts.lookup(tiny, None, None)
    assert remembered is not None and remembered.ok
    assert remembered.to_dict() == check.consistency(tiny).to_dict()
    # Another question is another verdict: other rules, another revision.
    assert verdicts.lookup(tiny, ["C1"], None) is None
    assert verdicts.lookup(tiny, None, "r1") is None


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_every_input_forgets_the_verdict(tiny: Settings, change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _pass(tiny)
    assert verdicts.lookup(tiny, None, None) is not None
    CHANGES[change](tiny, monkeypatch)
    assert verdicts.lookup(tiny, None, None) is None


def test_a_failing_verdict_is_never_remembered(tiny: Settings) -> None:
    with (tiny.root / "models.py").open("a") as fh:
        fh.write('orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True))\n')
    result = check.consistency(tiny)
    assert not result.ok and result.by_rule("C1")
    verdicts.remember(tiny, None, None, result)
    assert verdicts.lookup(tiny, None, None) is None and not verdicts.records(tiny)


def test_the_command_remembers_only_passing_history_built_verdicts(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tiny")
    env = {"PYTHONPATH": str(root)}
    settings = load_settings(root)
    try:
        assert invoke("reset-db", "--no-seed", cwd=root, env=env).code == 0
        live = invoke("consistency", "--live", cwd=root, env=env)
        assert live.code == 0 and not verdicts.records(settings), live.text  # a database changes outside files
        first = invoke("consistency", cwd=root, env=env)
        assert first.code == 0 and verdicts.NOTE not in first.out and verdicts.records(settings), first.text
        # Again, in a process that lists every module it imports (on stderr).
        probe = invoke("consistency", cwd=root, env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
        assert probe.code == 0 and probe.out == first.out + verdicts.NOTE + "\n", probe.text
        imported = {line.rsplit("|", 1)[-1].strip() for line in probe.err.splitlines() if "import time:" in line}
        assert "dbops.commands.verdicts" in imported
        assert not {"sqlalchemy", "alembic", "psycopg"} & imported
        # --no-cache runs every rule again.
        forced = invoke("consistency", "--no-cache", cwd=root, env=env)
        assert forced.code == 0 and forced.out == first.out, forced.text
        # A model the history does not make: the next run finds it, whatever was remembered.
        with (root / "models.py").open("a") as fh:
            fh.write('orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True))\n')
        broken = invoke("consistency", cwd=root, env=env)
        assert broken.code != 0 and "orders" in broken.out and verdicts.NOTE not in broken.out, broken.text
    finally:
        invoke("db.stop", cwd=root, env=env)
