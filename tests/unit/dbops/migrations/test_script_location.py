"""A ``package:path`` script_location (optuna's, prefect's) names a package of the project's interpreter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dbops.core.config import Settings
from dbops.core.errors import ConfigError
from dbops.migrations.scriptdir import project_revision_files

REVISION = 'revision = "0001"\ndown_revision = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n'


def _project(tmp_path: Path, location: str) -> Settings:
    """A project whose migrations live in ``pkg_app``, installed where only its own interpreter finds it."""
    site = tmp_path / "site"
    (site / "pkg_app" / "migrations" / "versions").mkdir(parents=True)
    # Importing the package (which Alembic does to resolve the location) leaves a mark naming the process.
    (site / "pkg_app" / "__init__.py").write_text(
        "import os, pathlib\npathlib.Path(__file__).with_name(f'imported-by-{os.getpid()}').touch()\n"
    )
    (site / "pkg_app" / "migrations" / "versions" / "0001_first.py").write_text(REVISION)
    python = tmp_path / "bin" / "python"
    python.parent.mkdir()
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    root = tmp_path / "project"
    root.mkdir()
    (root / "alembic.ini").write_text(f"[alembic]\nscript_location = {location}\n")
    return Settings(root=root, alembic_ini=root / "alembic.ini", metadata="pkg_app.models:metadata", python=str(python))


def test_the_package_is_found_by_the_projects_interpreter_without_importing_it(tmp_path: Path) -> None:
    settings = _project(tmp_path, "pkg_app:migrations")
    files = project_revision_files(settings)
    assert [f.name for f in files] == ["0001_first.py"]
    assert files[0].parent == tmp_path / "site" / "pkg_app" / "migrations" / "versions"
    assert "pkg_app" not in sys.modules
    assert not list((tmp_path / "site" / "pkg_app").glob("imported-by-*"))  # found, never run


def test_a_package_the_interpreter_lacks_is_one_line(tmp_path: Path) -> None:
    settings = _project(tmp_path, "no_such_pkg:migrations")
    with pytest.raises(ConfigError) as caught:
        project_revision_files(settings)
    assert "names package 'no_such_pkg', which the project's interpreter" in caught.value.message
    assert "python = ..." in (caught.value.hint or "")
