"""full-check's test selection on a small Alembic project whose tests use a real PostgreSQL (dbops.testing)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dbops.core.config import load_settings
from dbops.core.dburl import URL
from dbops.core.urls import plain_url
from dbops.pipeline import testselect

MINIPROJ = Path(__file__).resolve().parents[2] / "fixtures" / "miniproj"
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
    root = tmp_path / "proj"
    shutil.copytree(MINIPROJ, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "__init__.py").unlink()
    (root / "pyproject.toml").write_text(
        '[tool.dbops]\nmetadata = "models:metadata"\ndatabase = "sel"\n\n'
        '[tool.pytest.ini_options]\npythonpath = ["."]\n'
    )
    (root / "lib.py").write_text(LIB)
    (root / "tests").mkdir()
    (root / "tests" / "conftest.py").write_text('pytest_plugins = ["dbops.testing"]\n')
    (root / "tests" / "test_a.py").write_text(TEST_A)
    (root / "tests" / "test_b.py").write_text(TEST_B)
    return root


def _check(root: Path, env: dict[str, str]) -> tuple[str, str]:
    """Plan the "tests" step as full-check does, run pytest if anything is left; return (note, pytest's output)."""
    settings = load_settings(root, env=env)
    chosen = testselect.narrow(settings, "tests", "tests", [])
    if chosen.args is None:
        return chosen.note, ""
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *chosen.args]
    proc = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    if chosen.plan_file:
        chosen.plan_file.unlink(missing_ok=True)
    return chosen.note, proc.stdout + proc.stderr


def test_a_change_reruns_what_it_touches_and_failures_and_new_files_are_never_trusted(
    tmp_path: Path, pg_server: URL
) -> None:
    root = _project(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DBOPS_", "PYTEST_"))}
    env["DATABASE_URL"] = plain_url(pg_server)
    lib = root / "lib.py"

    note, out = _check(root, env)
    assert note.startswith("all tests (no record") and "2 passed" in out, out

    lib.write_text(LIB + "# only a comment\n")
    note, out = _check(root, env)
    assert note == "2 tests unaffected by the changes: not rerun" and out == ""

    lib.write_text(LIB.replace("return 1", "return 2 - 1"))  # the function test_a runs through the database
    note, out = _check(root, env)
    assert note.startswith("1 affected tests") and "1 passed" in out, out

    lib.write_text(LIB.replace("return 1", "return 0"))  # now it fails...
    note, out = _check(root, env)
    assert "1 failed" in out and "test_one_matches_the_database" in out, out
    note, out = _check(root, env)  # ...and, unchanged, runs (and fails) again: a failure is never cached
    assert note.startswith("1 affected tests") and "1 failed" in out, out

    lib.write_text(LIB)
    (root / "tests" / "test_c.py").write_text("def test_c():\n    pass\n")
    note, out = _check(root, env)
    assert note.startswith("all tests (files added") and "3 passed" in out, out
