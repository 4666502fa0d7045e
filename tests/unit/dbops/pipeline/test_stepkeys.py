"""The in-process steps' keys: the files they loaded in earlier passes, so an unchanged tree hits."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from dbops.pipeline.stepkeys import LoadedFilesKey


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project of three modules and a data file."""
    (tmp_path / "pkg").mkdir()
    for name in ("first_mod", "second_mod", "third_mod"):
        (tmp_path / "pkg" / f"{name}.py").write_text(f"NAME = {name!r}\n")
    (tmp_path / "seed.sql").write_text("select 1;\n")
    return tmp_path


def _load(root: Path, name: str) -> None:
    """Import one of the project's modules the way a step would (it lands in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"stepkeys_{root.name}_{name}", root / "pkg" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)


def _step(root: Path) -> LoadedFilesKey:
    return LoadedFilesKey(root, root / ".dbops" / "steps", "smoke", lambda: [], ["embedded"])


def _recorded(root: Path) -> list[str]:
    return json.loads((root / ".dbops" / "steps" / "smoke.loaded.json").read_text())


def test_the_recorded_files_are_a_union_so_the_key_settles(project: Path) -> None:
    # A pass that ran beside other steps saw more modules loaded than one that ran alone.
    first = _step(project)
    first.wrap(lambda: [_load(project, "first_mod"), _load(project, "second_mod")])()
    settled = _step(project).key()
    _step(project).wrap(lambda: _load(project, "first_mod"))()  # alone this time: the list holds
    assert _recorded(project) == ["pkg/first_mod.py", "pkg/second_mod.py"]
    assert _step(project).key() == settled

    # A module loaded for the first time joins the list, and the key moves once.
    _step(project).wrap(lambda: _load(project, "third_mod"))()
    assert len(_recorded(project)) == 3
    assert _step(project).key() != settled


def test_a_statement_in_a_recorded_module_moves_the_key_a_comment_does_not(project: Path) -> None:
    _step(project).wrap(lambda: _load(project, "first_mod"))()
    before = _step(project).key()
    module = project / "pkg" / "first_mod.py"
    module.write_text("NAME = 'first_mod'  # why\n")
    assert _step(project).key() == before
    module.write_text("NAME = 'changed'\n")
    assert _step(project).key() != before
    (project / "pkg" / "first_mod.py").write_text("NAME = 'first_mod'\n")
    (project / "seed.sql").write_text("select 2;\n")  # every data file counts
    assert _step(project).key() != before


def test_without_a_record_the_key_covers_the_whole_tree(project: Path) -> None:
    before = _step(project).key()
    (project / "pkg" / "third_mod.py").write_text("NAME = 'anything'\n")  # never loaded, but nothing is recorded
    assert _step(project).key() != before
