"""full-check's test selection (pytest-testmon), through `invoke phase 4` on a small Alembic project.

Phase 4's integration-tests step runs the project's tests with pytest-xdist (-n 2) and a -m filter, as
on this repository; its tests use a real PostgreSQL (dbops.testing's pg_server).
"""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import invoke, make_project

PROJECT = """
lint_paths = ["models.py"]
typecheck_paths = ["models.py"]
unit_tests = "tests"
integration_tests = "tests"
"""
LIB = """
def one():
    return 1


def two():
    return 2
"""
TEST_A = """
from sqlalchemy import create_engine, text

import lib


def test_one_matches_the_database(pg_server):
    engine = create_engine(pg_server.render_as_string(hide_password=False))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == lib.one()
    engine.dispose()
"""
TEST_B = "import lib\n\n\ndef test_two():\n    assert lib.two() == 2\n"


def _project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "sel", pyproject_extra=PROJECT)
    with (root / "pyproject.toml").open("a") as fh:
        fh.write('\n[tool.pytest.ini_options]\npythonpath = ["."]\n')
    (root / "lib.py").write_text(LIB)
    (root / "tests").mkdir()
    (root / "tests" / "conftest.py").write_text('pytest_plugins = ["dbops.testing"]\n')
    (root / "tests" / "test_a.py").write_text(TEST_A)
    (root / "tests" / "test_b.py").write_text(TEST_B)
    return root


def _tests_step(root: Path) -> str:
    """Run phase 4 as a user would; return the integration-tests step's summary ("cached, ..." when not rerun)."""
    run = invoke("phase", "4", "--json", str(root / ".dbops" / "summary.json"), cwd=root)
    assert "Traceback" not in run.text, run.text
    steps = {s["name"]: s for s in json.loads((root / ".dbops" / "summary.json").read_text())["steps"]}
    return str(steps["integration-tests"]["summary"])


def test_a_change_reruns_what_it_touches_and_failures_and_new_files(tmp_path: Path) -> None:
    root = _project(tmp_path)
    lib = root / "lib.py"

    summary = _tests_step(root)
    assert "2 passed" in summary and "all tests (no record of an earlier run)" in summary, summary
    assert (root / ".dbops" / "testmon" / "integration-tests.testmondata").is_file()
    assert not (root / ".testmondata").exists() and not (root / ".pytest_cache").exists()

    assert "(remembered: nothing it depends on changed" in _tests_step(root)  # nothing changed: not even started
    lib.write_text(LIB + "# only a comment\n")
    assert "(remembered: nothing it depends on changed" in _tests_step(root)  # no code changed either

    (root / "other.py").write_text("def unrelated():\n    return 2\n")  # code no test runs
    summary = _tests_step(root)
    assert "no tests ran" in summary and "no test affected by the changes" in summary, summary

    lib.write_text(LIB.replace("return 1", "return 2 - 1"))  # the function test_a runs through the database
    summary = _tests_step(root)
    assert summary.startswith("1 passed") and "affected by the changes" in summary, summary

    lib.write_text(LIB.replace("return 1", "return 0"))  # now it fails...
    assert _tests_step(root).startswith("1 failed")
    assert _tests_step(root).startswith("1 failed")  # ...and, unchanged, runs (and fails) again while unfixed
    lib.write_text(LIB)
    assert _tests_step(root).startswith("1 passed")
    (root / "other.py").write_text("def unrelated():\n    return 3\n")
    assert "no tests ran" in _tests_step(root)  # fixed: no longer rerun

    (root / "tests" / "test_c.py").write_text("def test_c():\n    pass\n")
    assert _tests_step(root).startswith("1 passed")  # only the new file


def test_a_change_it_cannot_see_runs_everything(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert "2 passed" in _tests_step(root)
    (root / "seed.sql").write_text("INSERT INTO things VALUES (1);\n")
    summary = _tests_step(root)
    assert "2 passed" in summary and "all tests (seed.sql changed, which pytest-testmon cannot see)" in summary
    revision = root / "migrations" / "versions" / "r1.py"
    revision.write_text(revision.read_text() + "REVIEWED = True\n")
    summary = _tests_step(root)
    assert "2 passed" in summary and "all tests (migrations/versions/r1.py changed" in summary, summary
