"""The in-process steps' keys: the files they loaded, remembered so an unchanged tree hits at once."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest

from dbops.pipeline.stepkeys import MTIME_MARGIN, LoadedFilesKey


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project of two modules and a data file, all last modified a minute ago."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "first_mod.py").write_text("X = 1\n")
    (tmp_path / "pkg" / "second_mod.py").write_text("Y = 2\n")
    (tmp_path / "seed.sql").write_text("select 1;\n")
    past = time.time() - 60
    for path in tmp_path.rglob("*"):
        os.utime(path, (past, past))
    return tmp_path


def _load(root: Path, name: str) -> None:
    """Import one of the project's modules the way a step would (it lands in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"stepkeys_{root.name}_{name}", root / "pkg" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


def _key(root: Path) -> LoadedFilesKey:
    return LoadedFilesKey(root, root / ".dbops" / "steps", "smoke", lambda: [], ["embedded"])


def test_the_after_run_key_is_the_next_runs_key(project: Path) -> None:
    first = _key(project)
    before = first.key()  # nothing recorded yet: as coarse as the whole tree
    first.wrap(lambda: _load(project, "first_mod"))()
    after = first.key_after()
    assert after is not None and after != before
    assert _key(project).key() == after  # the next run, same tree: a hit

    # A comment in a loaded module changes no syntax tree; a statement does.
    module = project / "pkg" / "first_mod.py"
    module.write_text("X = 1  # why\n")
    assert _key(project).key() == after
    module.write_text("X = 3\n")
    assert _key(project).key() != after


def test_no_after_run_key_when_an_input_changed_while_the_step_ran(project: Path) -> None:
    step = _key(project)
    step.key()

    def run() -> None:
        _load(project, "second_mod")
        (project / "seed.sql").write_text("select 2;\n")  # edited after the step read it

    step.wrap(run)()
    assert step.key_after() is None


def test_an_edit_just_before_the_run_counts_as_during_it(project: Path) -> None:
    # Coarse file-system clocks: a modification time within the margin of the first key is not trusted.
    recent = time.time() - MTIME_MARGIN / 2
    os.utime(project / "pkg" / "first_mod.py", (recent, recent))
    step = _key(project)
    step.key()
    step.wrap(lambda: _load(project, "first_mod"))()
    assert step.key_after() is None
