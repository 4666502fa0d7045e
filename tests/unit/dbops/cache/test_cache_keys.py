"""The one definition of "nothing changed": which edits change a result's key, and which leave it.

No database: the key of the inputs known before the work (code_key), the files the work loaded
(Entry's lookup), and a record that cannot be read or written (one warning line, the work runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dbops.cache.inputs import code_key, listed_files
from dbops.cache.store import Entry
from dbops.core.config import Settings, load_settings

ENV_PY = "import models\n"
REVISION = 'revision = "r1"\ndown_revision = None\n\n\ndef upgrade():\n    pass\n'
MODELS = "import json\n\n\ndef columns():\n    return ['id']\n"


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A small Alembic project (never run: keys are computed from its files)."""
    root = tmp_path / "proj"
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.dbops]\nmetadata = "models:metadata"\n')
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "versions" / "r1.py").write_text(REVISION)
    (root / "models.py").write_text(MODELS)
    (root / "README.md").write_text("notes\n")
    for name in ("DATABASE_URL", "DBOPS_BACKEND", "PYTHONPATH"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(root)


def _edit(rel: str, old: str, new: str) -> Callable[[Settings, pytest.MonkeyPatch], None]:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        path = settings.root / rel
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))

    return change


def _write(rel: str, text: str) -> Callable[[Settings, pytest.MonkeyPatch], None]:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        (settings.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (settings.root / rel).write_text(text)

    return change


def _setenv(name: str, value: str) -> Callable[[Settings, pytest.MonkeyPatch], None]:
    def change(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(name, value)

    return change


def _installed(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another version of a library in a site folder of the interpreter (the name of its record carries it)."""
    site = settings.root.parent / "lib" / "site-packages"
    (site / "sqlalchemy-2.0.99.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])


# change -> whether the key known before the work changes (a loaded file's body counts after it: see below)
STATIC = {
    "a comment in a Python file": (_edit("models.py", "import json", "# why\nimport json"), False),
    "a function body (counted once loaded)": (
        _edit("models.py", "'id'", "'id', 'x'"),
        False,
    ),
    "a new Python file (it may shadow an import)": (_write("models/__init__.py", ""), True),
    "a data file edited": (_edit("README.md", "notes", "more notes"), True),
    "a revision edited": (_edit("migrations/versions/r1.py", "pass", "return None"), True),
    "a comment in a revision (blockers read it)": (
        _edit("migrations/versions/r1.py", "def", "# x\ndef"),
        True,
    ),
    "a file beside the revisions": (_write("migrations/versions/r1.sql", "SELECT 1;\n"), True),
    "alembic.ini edited": (_edit("alembic.ini", "[alembic]", "[alembic]\nfile_template = %%(rev)s"), True),
    "DATABASE_URL": (_setenv("DATABASE_URL", "postgresql://u@elsewhere/db"), True),
    "a DBOPS_ override": (_setenv("DBOPS_SCHEMAS", "other"), True),
    "PYTHONPATH": (_setenv("PYTHONPATH", "/somewhere"), True),
    "an installed library's version": (_installed, True),
    "a variable no setting reads": (_setenv("UNRELATED_VARIABLE", "1"), False),
}


@pytest.mark.parametrize("change", list(STATIC), ids=list(STATIC))
def test_the_key_known_before_the_work(project: Settings, change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before = code_key(project, "x")
    mutate, changes = STATIC[change]
    mutate(project, monkeypatch)
    assert (code_key(project, "x") != before) is changes


def test_the_database_a_url_names_is_no_input(project: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Which database a command targets changes no template or verdict: its server does."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@host:5432/one")
    one = code_key(project.replace(url="postgresql://u:pw@host:5432/one"), "x")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@host:5432/two")
    assert code_key(project.replace(url="postgresql://u:pw@host:5432/two"), "x") == one
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:pw@other:5432/two")
    assert code_key(project.replace(url="postgresql://u:pw@other:5432/two"), "x") != one


def test_another_version_in_the_projects_own_interpreter(project: Settings, tmp_path: Path) -> None:
    """A project interpreter other than dbops's: its site folder's records, read without running it."""
    python = tmp_path / "venv" / "bin" / "python"
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    python.parent.mkdir(parents=True)
    python.write_text("")
    (site / "SQLAlchemy-2.0.36.dist-info").mkdir(parents=True)
    theirs = project.replace(python=str(python))
    before = code_key(theirs, "x")
    assert before != code_key(project, "x")
    (site / "SQLAlchemy-2.0.36.dist-info").rename(site / "SQLAlchemy-2.0.37.dist-info")
    assert code_key(theirs, "x") != before


def test_the_models_settings_do_not_reach_a_build_from_the_history(project: Settings) -> None:
    other = project.replace(models=("extra",))
    assert code_key(other, "x", models=False) == code_key(project, "x", models=False)
    assert code_key(other, "x") != code_key(project, "x")


def _remembered(settings: Settings, loaded: set[str]) -> Entry:
    entry = Entry(settings, "unit", "one", code_key(settings, "unit"))
    time.sleep(0.05)  # the files were written before the work started
    with entry.collect():
        pass
    entry.remember({"answer": 42}, loaded)
    return entry


LOADED = {
    "a comment": ("['id']", "['id']  # the key"),
    "a blank line": ("import json\n", "import json\n\n"),
    "a function body": ("'id'", "'id', 'x'"),
}


@pytest.mark.parametrize("change", list(LOADED), ids=list(LOADED))
def test_a_loaded_file_counts_by_its_syntax_tree(project: Settings, change: str) -> None:
    models = str(project.root / "models.py")
    _remembered(project, {models})
    old, new = LOADED[change]
    (project.root / "models.py").write_text(MODELS.replace(old, new, 1))
    hit = Entry(project, "unit", "one", code_key(project, "unit")).lookup()
    assert (hit is None) is (change == "a function body")
    if hit is not None:
        assert hit.result == {"answer": 42} and hit.note.startswith("remembered: nothing it depends on changed since ")


def test_a_loaded_file_that_goes_away_is_a_miss(project: Settings, tmp_path: Path) -> None:
    helper = tmp_path / "helper.py"  # outside the project (a sibling package), loaded by the project
    helper.write_text("X = 1\n")
    _remembered(project, {str(helper)})
    assert Entry(project, "unit", "one", code_key(project, "unit")).lookup() is not None
    helper.unlink()
    assert Entry(project, "unit", "one", code_key(project, "unit")).lookup() is None


def test_a_change_during_the_work_is_not_remembered(project: Settings) -> None:
    models = project.root / "models.py"
    entry = Entry(project, "unit", "one", code_key(project, "unit"))
    time.sleep(0.05)
    with entry.collect():
        models.write_text(MODELS.replace("'id'", "'id', 'y'"))  # edited while the work ran
    entry.remember({"answer": 1}, {str(models)})
    assert not entry.path.exists()
    assert Entry(project, "unit", "one", code_key(project, "unit")).lookup() is None


def test_unknown_loaded_files_are_never_remembered(project: Settings) -> None:
    entry = _remembered(project, {str(project.root / "models.py")})
    assert entry.path.exists()
    entry.remember({"answer": 2}, None)  # an agent that could not say what it loaded
    assert Entry(project, "unit", "one", code_key(project, "unit")).lookup() is None


def test_a_record_that_cannot_be_read_is_one_warning_and_a_miss(
    project: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = Entry(project, "unit", "one", code_key(project, "unit"))
    entry.path.mkdir(parents=True)  # a folder where the record should be
    assert entry.lookup() is None
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: cannot read the cache record ") and "the work runs" in err[0]


def test_a_record_that_cannot_be_written_is_one_warning(project: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    if os.geteuid() == 0:
        entry = Entry(project, "unit", "one", code_key(project, "unit"))
        entry.path.mkdir(parents=True)  # root writes anywhere: a folder in the record's place cannot be replaced
        (entry.path / "x").write_text("")
    else:
        (project.cache_dir / "results" / "unit").mkdir(parents=True)
        (project.cache_dir / "results" / "unit").chmod(0o500)
        entry = Entry(project, "unit", "one", code_key(project, "unit"))
    time.sleep(0.05)
    entry.remember({"answer": 3}, set())
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: cannot write the cache record "), err
    assert "next run does the work again" in err[0]


def test_the_project_files_are_the_ones_git_sees(project: Settings) -> None:
    root = project.root
    (root / "build").mkdir()
    (root / "build" / "out.txt").write_text("")
    (root / "notes.log").write_text("")
    walked = listed_files(project)
    assert "build/out.txt" not in walked and "notes.log" not in walked and "models.py" in walked
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / ".gitignore").write_text("README.md\n")
    in_git = listed_files(project)
    assert "README.md" not in in_git and ".gitignore" in in_git and "models.py" in in_git
