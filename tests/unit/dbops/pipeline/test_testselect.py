"""Test selection's planning: which edits narrow to function bodies and which force a full run."""

from __future__ import annotations

from pathlib import Path

from dbops.pipeline import testselect

SOURCE = '''
import os


def one():
    """First."""
    return 1


class Box:
    def two(self):
        return 2
'''


def _tree(tmp_path: Path, **files: str) -> testselect.Snapshot:
    """Write files (``lib__py`` is lib.py) and snapshot the folder."""
    for name, text in files.items():
        path = tmp_path / name.replace("__", ".")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return testselect.snapshot(tmp_path)


def _record(files: testselect.Snapshot, tests: dict[str, dict[str, object]]) -> dict[str, object]:
    return {"version": testselect.RECORD_VERSION, "key": "k", "files": files, "tests": tests, "fixtures": {}}


PASSED_ONE = {"outcome": "passed", "deps": ["lib.py::one"]}
PASSED_TWO = {"outcome": "passed", "deps": ["lib.py::Box.two"]}


def test_a_comment_or_blank_line_changes_no_fingerprint(tmp_path: Path) -> None:
    before = _tree(tmp_path, lib__py=SOURCE)
    after = _tree(tmp_path, lib__py=SOURCE.replace("return 1", "return 1  # why\n\n") + "# x\n")
    plan = testselect.plan(_record(before, {"t::a": PASSED_ONE}), after, "k", [])
    assert (plan.full, plan.run, plan.unaffected) == (False, [], 1)


def test_a_body_change_reruns_only_the_tests_that_ran_that_function(tmp_path: Path) -> None:
    before = _tree(tmp_path, lib__py=SOURCE)
    after = _tree(tmp_path, lib__py=SOURCE.replace("return 2", "return 3"))
    plan = testselect.plan(_record(before, {"t::a": PASSED_ONE, "t::b": PASSED_TWO}), after, "k", [])
    assert (plan.full, plan.run) == (False, ["t::b"])


def test_a_test_that_did_not_pass_always_runs_again(tmp_path: Path) -> None:
    files = _tree(tmp_path, lib__py=SOURCE)
    failed = {**PASSED_ONE, "outcome": "failed"}
    plan = testselect.plan(_record(files, {"t::a": failed, "t::b": PASSED_TWO}), files, "k", [])
    assert plan.run == ["t::a"]


def test_edits_outside_function_bodies_run_everything(tmp_path: Path) -> None:
    before = _tree(tmp_path, lib__py=SOURCE, conftest__py="X = 1\n", data__json="{}")
    record = _record(before, {"t::a": PASSED_ONE})
    cases = {
        "lib__py": SOURCE.replace("import os", "import sys"),  # top-level code
        "conftest__py": "X = 1\n\n# a comment\n",  # any conftest.py edit
        "data__json": '{"a": 1}',  # any non-Python file
        "new_test__py": "def test_new(): pass\n",  # an added file
    }
    for name, text in cases.items():
        after = _tree(tmp_path, **{name: text})
        assert testselect.plan(record, after, "k", []).full, name
        _tree(tmp_path, lib__py=SOURCE, conftest__py="X = 1\n", data__json="{}")
        (tmp_path / "new_test.py").unlink(missing_ok=True)


def test_no_record_another_key_or_an_always_full_file_run_everything(tmp_path: Path) -> None:
    before = _tree(tmp_path, lib__py=SOURCE)
    after = _tree(tmp_path, lib__py=SOURCE.replace("return 1", "return 0"))
    record = _record(before, {"t::a": PASSED_ONE})
    assert testselect.plan(None, after, "k", []).full
    assert testselect.plan(record, after, "other python", []).full
    assert testselect.plan(record, after, "k", ["lib.py"]).full


def test_a_function_run_outside_any_test_runs_everything(tmp_path: Path) -> None:
    before = _tree(tmp_path, lib__py=SOURCE)
    after = _tree(tmp_path, lib__py=SOURCE.replace("return 1", "return 0"))
    record = {**_record(before, {"t::a": PASSED_TWO}), "globals": ["lib.py::one"]}
    assert testselect.plan(record, after, "k", []).full


def test_a_cached_function_counts_as_top_level_code(tmp_path: Path) -> None:
    cached = "import functools\n\n\n@functools.cache\ndef value():\n    return 1\n"
    before = _tree(tmp_path, lib__py=cached)
    after = _tree(tmp_path, lib__py=cached.replace("return 1", "return 2"))
    assert testselect.plan(_record(before, {}), after, "k", []).full


def test_opaque_tests_rerun_on_any_body_change_but_not_on_comments(tmp_path: Path) -> None:
    before = _tree(tmp_path, lib__py=SOURCE)
    record = _record(before, {"t::server": {"outcome": "passed", "deps": [], "opaque": True}})
    comment = _tree(tmp_path, lib__py=SOURCE + "# x\n")
    assert testselect.plan(record, comment, "k", []).run == []
    body = _tree(tmp_path, lib__py=SOURCE.replace("return 2", "return 3"))
    assert testselect.plan(record, body, "k", []).run == ["t::server"]
