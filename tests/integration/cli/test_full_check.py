"""full-check on a small Alembic project: each kind of drift fails the run, naming its phase and step."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from cli_support import invoke, make_project

PROJECT = """
lint_paths = ["models.py"]
typecheck_paths = ["models.py"]
unit_tests = "tests"
integration_tests = "tests"
"""


def _project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "tiny", pyproject_extra=PROJECT)
    (root / "tests").mkdir()
    (root / "tests" / "test_nothing.py").write_text("def test_true() -> None:\n    assert 1 + 1 == 2\n")
    return root


def _full_check(root: Path) -> tuple[int, dict[str, dict[str, object]], str]:
    run = invoke("full-check", "--json", str(root / "summary.json"), cwd=root, env={"PYTHONPATH": str(root)})
    summary = json.loads((root / "summary.json").read_text())
    assert "Traceback" not in run.text
    return run.code, {s["name"]: s for s in summary["steps"]}, run.out


def test_clean_project_passes(tmp_path: Path) -> None:
    code, steps, out = _full_check(_project(tmp_path))
    assert code == 0, out
    assert {s["status"] for s in steps.values()} == {"passed"}
    assert "full-check: PASSED" in out


def test_model_without_a_migration_fails_phase_1_consistency(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with (root / "models.py").open("a") as fh:
        fh.write('orders = sa.Table("orders", metadata, sa.Column("id", sa.Integer, primary_key=True))\n')
    code, steps, out = _full_check(root)
    assert code == 1
    assert steps["consistency"]["status"] == "failed" and steps["consistency"]["phase"] == 1
    assert "C1-model-table (1): orders" in str(steps["consistency"]["summary"])
    assert "consistency tests" in out and "failed" in out


def test_type_changed_only_in_a_migration_fails_consistency(tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "migrations" / "versions" / "r2.py").write_text(
        textwrap.dedent('''
        """widen things.id"""
        from alembic import op
        import sqlalchemy as sa

        revision = "r2"
        down_revision = "r1"


        def upgrade() -> None:
            op.alter_column("things", "id", type_=sa.BigInteger())


        def downgrade() -> None:
            op.alter_column("things", "id", type_=sa.Integer())
    ''')
    )
    code, steps, _ = _full_check(root)
    assert code == 1
    assert steps["consistency"]["status"] == "failed"
    assert "things.id" in str(steps["consistency"]["summary"])
    assert steps["migrate"]["status"] == "passed"


@pytest.mark.parametrize("commented", ['# op.add_column("things", sa.Column("name", sa.Text()))'])
def test_half_commented_migration_fails_phase_3_blockers(tmp_path: Path, commented: str) -> None:
    root = _project(tmp_path)
    (root / "migrations" / "versions" / "r2.py").write_text(
        textwrap.dedent(f'''
        """add things.name (half done)"""
        from alembic import op
        import sqlalchemy as sa

        revision = "r2"
        down_revision = "r1"


        def upgrade() -> None:
            {commented}
            op.create_index("ix_things_id", "things", ["id"])


        def downgrade() -> None:
            pass
    ''')
    )
    code, steps, out = _full_check(root)
    assert code == 1
    assert steps["blockers"]["status"] == "failed" and steps["blockers"]["phase"] == 3
    assert "B1" in str(steps["blockers"]["summary"]) or "B2" in str(steps["blockers"]["summary"])
    assert "blockers" in out and "FAILED" in out
