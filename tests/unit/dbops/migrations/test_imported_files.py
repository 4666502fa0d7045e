"""Which of the project's modules a migration script imports: found on sys.path without importing them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbops.migrations.scripts import imported_project_files


def test_project_helpers_count_and_installed_packages_do_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "proj"
    (root / "app" / "db").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    (root / "app" / "db" / "__init__.py").write_text("")
    (root / "app" / "db" / "types.py").write_text("MONEY = 1\n")
    (root / "helpers.py").write_text("def backfill(): ...\n")
    site = root / ".venv" / "lib" / "site-packages" / "vendored"
    site.mkdir(parents=True)
    (site / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(root / ".venv" / "lib" / "site-packages"))
    monkeypatch.syspath_prepend(str(root))
    script = root / "migrations" / "0001.py"
    script.parent.mkdir()
    script.write_text(
        "import sqlalchemy as sa\nimport helpers\nimport vendored\n"
        "from app.db.types import MONEY\nfrom .sibling import x\n"
    )
    (root / "migrations" / "data.sql").write_text("SELECT 1;\n")
    found = imported_project_files([script, root / "migrations" / "data.sql"])
    expected = ["helpers.py", "app/__init__.py", "app/db/__init__.py", "app/db/types.py"]  # packages run on import
    assert found == sorted((root / rel).resolve() for rel in expected)


def test_a_script_that_does_not_parse_is_left_to_the_history_scan(tmp_path: Path) -> None:
    script = tmp_path / "0001.py"
    script.write_text("def upgrade(:\n")
    assert imported_project_files([script]) == []


def test_imports_are_followed_to_their_closure_and_skip_is_neither_counted_nor_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mono"
    (root / "shared" / "sql").mkdir(parents=True)
    (root / "shared" / "__init__.py").write_text("")
    (root / "shared" / "helpers.py").write_text("from .sql import columns\n")
    (root / "shared" / "sql" / "__init__.py").write_text("")
    (root / "shared" / "sql" / "columns.py").write_text("from shared.types import NOTES\n")
    (root / "shared" / "types.py").write_text("NOTES = 'text'\n")
    (root / "models.py").write_text("import shared.unused_by_migrations\n")
    monkeypatch.syspath_prepend(str(root))
    script = tmp_path / "versions" / "0011.py"
    script.parent.mkdir()
    script.write_text("from shared.helpers import add_notes\nimport models\n")
    found = imported_project_files([script], skip=[root / "models.py"])
    names = {p.relative_to(root.resolve()).as_posix() for p in found}
    # The helper's own imports (relative and absolute) count; the skipped models module does not.
    assert names == {
        "shared/__init__.py",
        "shared/helpers.py",
        "shared/sql/__init__.py",
        "shared/sql/columns.py",
        "shared/types.py",
    }
