"""The dbops command line: project flags anywhere, as settings variables; the rest goes to invoke unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dbops.cli.program import take_project_flags
from dbops.core.config import load_settings
from dbops.core.errors import ConfigError


def test_flags_anywhere_both_spellings() -> None:
    """--flag value and --flag=value, before or after the task name, become DBOPS_* variables."""
    line = "--metadata=app.models:Base.metadata consistency --alembic-ini db/alembic.ini --format json"
    rest, env = take_project_flags([*line.split(), "--name", "tenant", "--schemas", "billing"])
    assert rest == ["consistency", "--format", "json"]
    assert env == {
        "DBOPS_METADATA": "app.models:Base.metadata",
        "DBOPS_ALEMBIC_INI": "db/alembic.ini",
        "DBOPS_ALEMBIC_NAME": "tenant",
        "DBOPS_SCHEMAS": "billing",
    }


def test_flag_without_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A trailing --metadata with nothing after it: one line and exit 2."""
    with pytest.raises(SystemExit) as exc:
        take_project_flags(["consistency", "--metadata"])
    assert exc.value.code == 2
    assert "--metadata needs a value" in capsys.readouterr().err


def test_variables_override_the_pyproject(tmp_path: Path) -> None:
    """The flags' variables win over [tool.dbops]; a dotted metadata path and one schema are taken as given."""
    root = tmp_path
    (root / "pyproject.toml").write_text('[tool.dbops]\nmetadata = "a.models:metadata"\n')
    env = {"DBOPS_METADATA": "b.models:Base.metadata", "DBOPS_SCHEMAS": "billing", "DBOPS_ALEMBIC_NAME": "tenant"}
    settings = load_settings(root, env=env)
    assert (settings.metadata, settings.schemas, settings.alembic_name) == (
        "b.models:Base.metadata",
        ("billing",),
        "tenant",
    )
    with pytest.raises(ConfigError, match="one schema per run"):
        load_settings(root, env={**env, "DBOPS_SCHEMAS": "a,b"})


HEAVY = ("sqlalchemy", "alembic", "psycopg", "rich", "docker", "billing")


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "invoke", "--list"],
        ["-m", "invoke", "--help", "reset-db"],
        ["-c", "from dbops.cli.program import main; main()", "--list"],
    ],
    ids=["invoke --list", "invoke --help TASK", "dbops --list"],
)
def test_listing_tasks_imports_nothing_heavy(argv: list[str]) -> None:
    """Listing or explaining tasks loads invoke and the task modules only: the work's libraries wait for a task."""
    root = Path(__file__).resolve().parents[4]
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "reset-db" in proc.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert "dbops" in imported and "invoke" in imported  # the measurement saw the task modules load
    assert imported.isdisjoint(HEAVY), sorted(imported.intersection(HEAVY))


def test_help_lists_the_readmes_exit_codes() -> None:
    """`dbops --help` ends with the exit codes, the same ones the README's table documents."""
    import re

    from dbops.core import errors

    run = subprocess.run(
        [sys.executable, "-c", "from dbops.cli.program import main; main(['--help'])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    shown = set(re.findall(r"^  (\d+) ", run.stdout, re.M))
    readme = (Path(__file__).resolve().parents[4] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exit codes", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"^\| (\d+) \|", table, re.M))
    constants = {str(getattr(errors, name)) for name in dir(errors) if name.startswith("EXIT_")}
    assert shown == documented == constants
