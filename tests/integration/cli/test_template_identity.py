"""A template's identity: what shapes the database the history builds changes it, and nothing else does.

The project's code runs in its own interpreter: what it loaded while building (env.py, the models it
imports, the helpers a revision calls and theirs, the hook) is learnt from the build and hashed again.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import make_project

from dbops.core import database
from dbops.core.config import Settings, load_settings
from dbops.core.dburl import URL
from dbops.lifecycle import templates
from dbops.lifecycle.templates import ensure_template
from dbops.project.python import installed

MODELS = '''"""Models of the tiny project."""

import sqlalchemy as sa

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.Text),
    sa.Column("kind", sa.Enum("a", "b", name="kind")),
)
'''
REVISION = '''"""r1"""
from alembic import op
import sqlalchemy as sa
from tinyhelpers import things_columns

revision = "r1"
down_revision = None


def upgrade() -> None:
    op.create_table("things", *things_columns())


def downgrade() -> None:
    op.drop_table("things")
'''


@pytest.fixture()
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """A tiny project whose revision calls a helper module, which imports another; and a before_migrate hook."""
    root = make_project(tmp_path / "tiny", models=MODELS, pyproject_extra='before_migrate = "tinyhook:prepare"')
    (root / "migrations" / "versions" / "r1.py").write_text(REVISION)
    (root / "tinyhelpers.py").write_text(
        "import sqlalchemy as sa\nfrom tinytypes import CODE\n\n\n"
        "def things_columns():\n    return [sa.Column('id', sa.Integer, primary_key=True), sa.Column('code', CODE)]\n"
    )
    (root / "tinytypes.py").write_text("import sqlalchemy as sa\n\nCODE = sa.Text\n")
    (root / "tinyhook.py").write_text("def prepare(url):\n    pass\n")
    monkeypatch.syspath_prepend(str(root))
    for name in ("models", "tinyhelpers", "tinytypes", "tinyhook"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    yield load_settings(root)
    sys.modules.pop("models", None)


def _edit(path: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        file = root / path
        text = file.read_text()
        assert old in text
        file.write_text(text.replace(old, new, 1))

    return change


def _beside_the_revisions(root: Path) -> None:
    (root / "migrations" / "versions" / "r1.sql").write_text("SELECT 1;\n")


INDEXED = 'sa.Column("code", sa.Text, index=True)'
CHANGES = {
    "a comment in the models": (_edit("models.py", '"""Models', '# tidy\n"""Models'), False),
    "an index on a model column": (_edit("models.py", 'sa.Column("code", sa.Text)', INDEXED), True),
    "an enum label in the models": (_edit("models.py", '"a", "b"', '"a", "b", "c"'), True),
    "the helper a revision calls": (_edit("tinyhelpers.py", "primary_key=True", "primary_key=True, comment='x'"), True),
    "a module that helper imports": (_edit("tinytypes.py", "sa.Text", "sa.Integer"), True),
    "the before_migrate hook": (_edit("tinyhook.py", "pass", "return None"), True),
    "a file beside the revisions": (_beside_the_revisions, True),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_what_shapes_the_built_database_changes_the_template(tiny: Settings, pg_server: URL, change: str) -> None:
    before = ensure_template(tiny, pg_server)
    mutate, shapes = CHANGES[change]
    mutate(tiny.root)
    assert (ensure_template(tiny, pg_server) != before) is shapes


def test_the_models_settings_do_not_rebuild_the_history(tiny: Settings, pg_server: URL) -> None:
    """Another models module to import changes the models' build, not the history's (unless create_all starts it)."""
    before = ensure_template(tiny, pg_server)
    assert ensure_template(tiny.replace(models=("tinytypes",), import_all="tinyhook:prepare"), pg_server) == before
    baseline = tiny.replace(baseline="create_all", baseline_revision="r1")
    assert ensure_template(baseline.replace(models=("tinytypes",)), pg_server) != ensure_template(baseline, pg_server)


def test_the_import_path_of_the_process_asking_is_not_an_input(
    tiny: Settings, pg_server: URL, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A test session prepends its folders to sys.path; a command beside it finds its template, never rebuilds it."""
    before = ensure_template(tiny, pg_server)
    monkeypatch.syspath_prepend(str(tmp_path / "tests-folder"))
    installed.cache_clear()  # asked again, as another process would
    assert ensure_template(tiny, pg_server) == before


def test_runs_with_other_inputs_keep_their_templates_and_the_oldest_goes(
    tiny: Settings, pg_server: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild for other inputs (here PYTHONPATH) never drops the template a run beside it clones from."""
    built = []
    for n in range(templates.KEPT_PER_FAMILY + 1):
        monkeypatch.setenv("PYTHONPATH", f"/nowhere/{n}")
        built.append(ensure_template(tiny, pg_server))
        copy = f"{built[0][:40]}_copy{n}"
        if n < templates.KEPT_PER_FAMILY:  # the first is still there to clone from
            templates.clone(pg_server, built[0], copy)
            database.drop(pg_server, copy, disposable=(copy,))
    assert len(set(built)) == len(built)
    assert [database.exists(pg_server, name) for name in built] == [False] + [True] * templates.KEPT_PER_FAMILY


def test_a_template_a_session_holds_outlives_newer_builds(
    tiny: Settings, pg_server: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test session holds its template (templates.in_use): only a rebuild after it let go drops it."""
    monkeypatch.setenv("PYTHONPATH", "/nowhere/held")
    held = ensure_template(tiny, pg_server)
    with templates.in_use(pg_server, held):
        for n in range(templates.KEPT_PER_FAMILY + 1):
            monkeypatch.setenv("PYTHONPATH", f"/nowhere/{n}")
            ensure_template(tiny, pg_server)
        assert database.exists(pg_server, held)
    monkeypatch.setenv("PYTHONPATH", "/nowhere/last")
    ensure_template(tiny, pg_server)
    assert not database.exists(pg_server, held)
