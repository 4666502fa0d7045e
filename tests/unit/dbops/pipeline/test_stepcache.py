"""input_key: a step's cache key moves with every input it names, and only with those."""

from __future__ import annotations

from pathlib import Path

from dbops.pipeline.stepcache import input_key


def _tree(root: Path) -> Path:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "a.py").write_text("x = 1\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_a.py").write_text("def test(): pass\n")
    (root / "setup.cfg").write_text("[x]\n")
    return root


def test_same_inputs_same_key(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert input_key(root, ["src"]) == input_key(root, ["src"])


def test_a_content_change_a_new_file_and_a_rename_each_move_the_key(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    keys = {input_key(root, ["src"])}
    (root / "src" / "pkg" / "a.py").write_text("x = 2\n")
    keys.add(input_key(root, ["src"]))
    (root / "src" / "pkg" / "b.py").write_text("")
    keys.add(input_key(root, ["src"]))
    (root / "src" / "pkg" / "b.py").rename(root / "src" / "pkg" / "c.py")
    keys.add(input_key(root, ["src"]))
    assert len(keys) == 4


def test_files_outside_the_patterns_and_bytecode_do_not_count(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = input_key(root, ["src", "setup.cfg"])
    (root / "tests" / "test_a.py").write_text("def test(): assert 0\n")
    (root / "src" / "pkg" / "__pycache__").mkdir()
    (root / "src" / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert input_key(root, ["src", "setup.cfg"]) == before
    (root / "setup.cfg").write_text("[y]\n")
    assert input_key(root, ["src", "setup.cfg"]) != before


def test_extra_values_are_part_of_the_key(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert input_key(root, ["src"], ["embedded"]) != input_key(root, ["src"], ["docker"])
