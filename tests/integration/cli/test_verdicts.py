"""Remembered consistency verdicts: printed only while nothing the verdict depends on changed."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import REVISION, invoke, make_project

from dbops.commands import check, verdicts
from dbops.core import database
from dbops.core.config import Settings, load_settings
from dbops.core.dburl import URL
from dbops.core.findings import CheckResult
from dbops.core.urls import plain_url, with_database

# The models import a module from a folder outside the project (a sibling package, say).
MODELS = '''"""Models of the tiny project."""

import sqlalchemy as sa
from tinyshared import ID_TYPE

metadata = sa.MetaData()
things = sa.Table("things", metadata, sa.Column("id", ID_TYPE, primary_key=True))
'''


def _settle(folder: Path) -> None:
    """Date every file and folder below ``folder`` a minute back: written long before the run."""
    past = time.time() - 60
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (past, past))


@pytest.fixture()
def tiny(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    dbops_settings: Settings,
    pg_server: URL,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Settings]:
    """A tiny project on the suite's embedded server, with a sibling module and a site folder of its own."""
    backend = dbops_settings.resolved_backend
    if backend not in ("embedded", "url"):
        pytest.skip("a docker server is only known once its container runs: its verdicts are not remembered")
    root = make_project(tmp_path / "tiny", models=MODELS)
    (root / "data.json").write_text('{"currencies": ["EUR"]}\n')
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "tinyshared.py").write_text("import sqlalchemy as sa\n\nID_TYPE = sa.Integer\n")
    (tmp_path / "site" / "site-packages").mkdir(parents=True)
    for folder in (tmp_path / "site" / "site-packages", shared, root):
        monkeypatch.syspath_prepend(str(folder))
    # The project's interpreter (a child process) finds the sibling module as a user's shell would let it.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(shared), str(tmp_path / "site" / "site-packages")]))
    for name in ("models", "tinyshared"):
        monkeypatch.delitem(sys.modules, name, raising=False)  # another tiny project's, from an earlier test
    # Modules earlier tests loaded from their own temporary folders (some dated into the future) are
    # not this project's: a real process would never have them.
    base = str(tmp_path_factory.getbasetemp())
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file.startswith(base) and not file.startswith(str(tmp_path)):
            monkeypatch.delitem(sys.modules, name)
    for key in ("DATABASE_URL", "DBOPS_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    name = f"tiny{uuid.uuid4().hex[:8]}"
    url = plain_url(with_database(pg_server, name)) if backend == "url" else None
    settings = load_settings(root).replace(database=name, cache_dir=dbops_settings.cache_dir, backend=backend, url=url)
    assert check.consistency(settings).ok  # the first run writes bytecode next to the sources
    _settle(tmp_path)
    yield settings
    verdicts.forget(settings)
    for name in database.list_databases(pg_server):
        if settings.database in name:
            database.drop(pg_server, name, disposable=(name,))


def _pass(settings: Settings, rules: list[str] | None = None) -> CheckResult:
    """A consistency run that passes, remembered as the command remembers it."""
    asked = verdicts.question(settings, rules, None)
    assert asked is not None
    result = check.consistency(settings, rules=rules)
    assert result.ok, result.findings
    verdicts.remember(settings, rules, None, asked, result)
    return result


def _lookup(settings: Settings, rules: list[str] | None = None, revision: str | None = None) -> CheckResult | None:
    asked = verdicts.question(settings, rules, revision)
    assert asked is not None
    return verdicts.lookup(settings, rules, revision, asked)


Change = Callable[[Settings, pytest.MonkeyPatch], None]


def _append(path: str, text: str = "\n# edited\n") -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        file = settings.root / path
        file.write_text(file.read_text() + text)

    return change


def _write(path: str, text: str) -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        file = settings.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)

    return change


def _new_revision(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    versions = settings.root / "migrations" / "versions"
    (versions / "r2.py").write_text(REVISION.format(doc="r2", rev="r2", down=repr("r1"), table="others"))


def _env(name: str) -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(name, "999")

    return change


def _sibling_edited(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = settings.root.parent / "shared" / "tinyshared.py"
    shared.write_text(shared.read_text().replace("sa.Integer", "sa.BigInteger"))


def _site(name: str) -> Change:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        target = settings.root.parent / "site" / "site-packages" / name
        if name.endswith(".pth"):
            target.write_text(str(settings.root.parent / "elsewhere") + "\n")
        else:
            target.mkdir()

    return change


def _path_entry(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    (settings.root.parent / "elsewhere").mkdir()
    monkeypatch.syspath_prepend(str(settings.root.parent / "elsewhere"))


CHANGES: dict[str, Change] = {
    "a model module edited (a comment too)": _append("models.py", "\n# a comment\n"),
    "a module outside the project edited": _sibling_edited,
    "a package that would shadow the models": _write("models/__init__.py", "metadata = None\n"),
    "a data file edited": _append("data.json", " "),
    "a data file added in a subfolder": _write("tables/extra.json", "{}\n"),
    "a file beside a revision edited (one it may read)": _write("migrations/versions/r1.sql", "SELECT 1;\n"),
    "a revision file edited": _append("migrations/versions/r1.py"),
    "a revision added": _new_revision,
    "env.py edited": _append("migrations/env.py"),
    "alembic.ini edited": _append("alembic.ini"),
    "pyproject.toml edited": _append("pyproject.toml"),
    "a DBOPS_ variable set": _env("DBOPS_IDLE_STOP"),
    "a variable the models might read set": _env("TINY_SCHEMA"),
    "a folder added to sys.path": _path_entry,
    "a distribution installed": _site("extra_rules-1.0.dist-info"),
    "a .pth file added": _site("extra.pth"),
}


def test_an_unchanged_project_gets_the_remembered_verdict(tiny: Settings) -> None:
    assert _lookup(tiny) is None
    ran = _pass(tiny)
    remembered = _lookup(tiny)
    assert remembered is not None and remembered.to_dict() == ran.to_dict()
    # Another question is another verdict: other rules, another revision.
    assert _lookup(tiny, ["C1"]) is None and _lookup(tiny, None, "r1") is None
    (record,) = verdicts.records(tiny)
    body = json.loads(record.read_text())
    # What the record vouches for: the models, the module outside the project, dbops's rules, the data file.
    modules = body["modules"]
    assert str(tiny.root / "models.py") in modules and any(m.endswith("tinyshared.py") for m in modules)
    assert any(m.endswith(os.path.join("dbops", "checks", "c1_model_table.py")) for m in modules)
    assert str(tiny.root / "data.json") in body["state"]["files"]
    assert "EUR" not in record.read_text()  # files are hashed together: no file's own hash or content is kept


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_every_input_forgets_the_verdict(tiny: Settings, change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _pass(tiny)
    assert _lookup(tiny) is not None
    CHANGES[change](tiny, monkeypatch)
    assert _lookup(tiny) is None


def test_a_change_during_the_run_is_not_remembered(tiny: Settings) -> None:
    asked = verdicts.question(tiny, None, None)
    assert asked is not None
    result = check.consistency(tiny)
    _append("models.py")(tiny, pytest.MonkeyPatch())  # saved while the rules ran: the verdict is of neither
    verdicts.remember(tiny, None, None, asked, result)
    assert not verdicts.records(tiny)


def test_a_module_appearing_on_sys_path_during_the_run_is_not_remembered(tiny: Settings) -> None:
    asked = verdicts.question(tiny, None, None)
    assert asked is not None
    result = check.consistency(tiny)
    shadow = tiny.root.parent / "shared" / "models.py"  # first on sys.path: the next import would find it
    shadow.write_text("metadata = None\n")
    os.utime(shadow, (time.time() - 60, time.time() - 60))  # even with an old date, the listing tells
    verdicts.remember(tiny, None, None, asked, result)
    assert not verdicts.records(tiny)


def test_a_failing_verdict_is_never_remembered_and_forgets_the_last(tiny: Settings) -> None:
    _pass(tiny)
    assert verdicts.records(tiny)
    with (tiny.root / "models.py").open("a") as fh:
        fh.write('orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True))\n')
    sys.modules.pop("models", None)
    _settle(tiny.root)
    asked = verdicts.question(tiny, None, None)
    assert asked is not None
    result = check.consistency(tiny)
    assert not result.ok and result.by_rule("C1")
    verdicts.remember(tiny, None, None, asked, result)
    assert _lookup(tiny) is None and not verdicts.records(tiny)


def test_a_password_never_reaches_the_record(tiny: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TINY_DSN", "postgresql://app:s3cr3t-Pw@db.example:5432/app")
    asked = verdicts.question(tiny, None, None)
    assert asked is not None and asked.key == _masked_question(tiny, monkeypatch)
    _pass(tiny)
    (record,) = verdicts.records(tiny)
    assert "s3cr3t-Pw" not in record.read_text() and "s3cr3t-Pw" not in record.name


def _masked_question(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str:
    # The same question with another password: a password is masked before hashing, so it cannot be guessed back.
    with monkeypatch.context() as m:
        m.setenv("TINY_DSN", "postgresql://app:another@db.example:5432/app")
        asked = verdicts.question(settings, None, None)
        return asked.key if asked else ""


def test_a_url_server_is_asked_its_version(tiny: Settings, pg_server: URL) -> None:
    remote = tiny.replace(backend="url", url=plain_url(with_database(pg_server, tiny.database)))
    assert verdicts.question(remote, None, None) is not None  # the server answered with its version
    _pass(remote)
    assert _lookup(remote) is not None
    (record,) = verdicts.records(remote)
    password = str(pg_server.password or "")
    assert len(password) >= 8  # the suite's server has one: the next line can fail
    assert password not in record.read_text()
    # Nothing answers there: the server cannot be named, so nothing is looked up or remembered.
    silent = remote.replace(url=plain_url(pg_server.set(port=1)))
    assert verdicts.question(silent, None, None) is None


def test_the_command_remembers_only_passing_history_built_verdicts(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tiny")
    # Both runs list the modules they import (on stderr); the environment is part of what is remembered.
    env = {"PYTHONPATH": str(root), "PYTHONPROFILEIMPORTTIME": "1"}
    # The settings the command sees: cli_support.invoke leaves out this suite's DBOPS_* and DATABASE_URL.
    own = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_"))}
    settings = load_settings(root, env=own)
    try:
        assert invoke("reset-db", "--no-seed", cwd=root, env=env).code == 0
        live = invoke("consistency", "--live", cwd=root, env=env)
        assert live.code == 0 and not verdicts.records(settings), live.text  # a database changes outside files
        first = invoke("consistency", cwd=root, env=env)
        assert first.code == 0 and verdicts.NOTE not in first.out and verdicts.records(settings), first.text
        again = invoke("consistency", cwd=root, env=env)
        assert again.code == 0 and again.out == first.out + verdicts.NOTE + "\n", again.text
        imported = {line.rsplit("|", 1)[-1].strip() for line in again.err.splitlines() if "import time:" in line}
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


def test_an_unreadable_record_says_so_and_the_rules_run(tiny: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """A record that is not JSON is a miss with one warning line, never a silent cold cache or a verdict."""
    _pass(tiny)
    (record,) = verdicts.records(tiny)
    record.write_text("{ not json")
    assert _lookup(tiny) is None
    err = capsys.readouterr().err
    assert f"warning: the remembered verdict {record} could not be read (JSONDecodeError" in err
    assert "every rule runs" in err
