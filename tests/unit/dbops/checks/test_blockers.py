"""The blocker scan on generated migration files: each blocker found at its line, clean files give nothing."""

from __future__ import annotations

import keyword
import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dbops.checks.blockers import blocked_files, scan_blockers, scan_file
from dbops.core.findings import Finding

HEADER = '''"""Add a column.

Revision ID: 0001_x
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_x"
down_revision = None

'''

CLEAN = HEADER + textwrap.dedent(
    """
    def upgrade() -> None:
        op.add_column("users", sa.Column("nickname", sa.String(50), nullable=True))


    def downgrade() -> None:
        op.drop_column("users", "nickname")
    """
)


def write(tmp_path: Path, source: str, name: str = "0001_x.py") -> Path:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path


def found(tmp_path: Path, source: str) -> list[tuple[str, str]]:
    """(rule, object) of each finding, objects relative to tmp_path."""
    return [(f.rule, f.object) for f in scan_blockers([write(tmp_path, source)], root=tmp_path)]


def line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)


def test_clean_file_gives_nothing(tmp_path: Path) -> None:
    assert found(tmp_path, CLEAN) == []


def test_commented_op_line(tmp_path: Path) -> None:
    source = CLEAN.replace(
        '    op.add_column("users"',
        '    # op.create_index("ix_users_nickname", "users", ["nickname"])\n    op.add_column("users"',
    )
    line = line_of(source, "# op.create_index")
    assert found(tmp_path, source) == [("B1-commented-code", f"0001_x.py:{line}")]
    finding = scan_file(tmp_path / "0001_x.py", tmp_path)[0]
    assert finding.severity == "error"
    assert "# op.create_index" in finding.message


def test_commented_sa_line_inside_a_call(tmp_path: Path) -> None:
    source = CLEAN.replace(
        'sa.Column("nickname", sa.String(50), nullable=True))',
        'sa.Column("nickname", sa.String(50), nullable=True),\n        # sa.Column("age", sa.Integer),\n    )',
    )
    assert found(tmp_path, source) == [("B1-commented-code", f"0001_x.py:{line_of(source, '# sa.Column')}")]


def test_prose_comment_mentioning_op_is_not_code(tmp_path: Path) -> None:
    source = CLEAN.replace("def upgrade", "# the op. module is Alembic's; see its docs\ndef upgrade")
    assert found(tmp_path, source) == []


def test_pass_only_downgrade(tmp_path: Path) -> None:
    source = CLEAN.replace('    op.drop_column("users", "nickname")', '    """Nothing to undo."""\n    pass')
    assert found(tmp_path, source) == [("B2-downgrade", f"0001_x.py:{line_of(source, 'def downgrade')}")]


def test_ellipsis_downgrade(tmp_path: Path) -> None:
    source = CLEAN.replace('    op.drop_column("users", "nickname")', "    ...")
    assert found(tmp_path, source) == [("B2-downgrade", f"0001_x.py:{line_of(source, 'def downgrade')}")]


def test_not_implemented_downgrade(tmp_path: Path) -> None:
    source = CLEAN.replace('    op.drop_column("users", "nickname")', '    raise NotImplementedError("one way only")')
    assert found(tmp_path, source) == [("B2-downgrade", f"0001_x.py:{line_of(source, 'raise NotImplementedError')}")]
    assert "NotImplementedError" in scan_file(tmp_path / "0001_x.py")[0].message


def test_missing_downgrade(tmp_path: Path) -> None:
    source = CLEAN[: CLEAN.index("def downgrade")]
    assert found(tmp_path, source) == [("B2-downgrade", "0001_x.py:1")]
    assert scan_file(tmp_path / "0001_x.py")[0].message == "has no downgrade() function"


def test_todo_fixme_xxx_are_warnings(tmp_path: Path) -> None:
    source = CLEAN.replace(
        "def upgrade", "# TODO: backfill\n# FIXME later\n# XXX check\n# todoist is not a marker\ndef upgrade"
    )
    findings = scan_blockers([write(tmp_path, source)], root=tmp_path)
    assert [(f.rule, f.severity, f.object) for f in findings] == [
        ("B3-todo", "warning", f"0001_x.py:{line_of(source, 'TODO')}"),
        ("B3-todo", "warning", f"0001_x.py:{line_of(source, 'FIXME')}"),
        ("B3-todo", "warning", f"0001_x.py:{line_of(source, 'XXX')}"),
    ]
    assert blocked_files(findings) == 0  # warnings do not block


def test_syntax_error_is_one_finding(tmp_path: Path) -> None:
    source = CLEAN.replace("def downgrade() -> None:", "def downgrade( -> None:")
    findings = scan_blockers([write(tmp_path, source)], root=tmp_path)
    assert [(f.rule, f.severity) for f in findings] == [("B0-syntax", "error")]
    assert findings[0].object == f"0001_x.py:{line_of(source, 'def downgrade(')}"
    assert blocked_files(findings) == 1


def test_paths_outside_root_are_shown_as_given(tmp_path: Path) -> None:
    path = write(tmp_path, CLEAN.replace('    op.drop_column("users", "nickname")', "    pass"))
    finding = scan_blockers([path], root=tmp_path / "elsewhere")[0]
    assert finding.object.startswith(str(path) + ":")


def test_blocked_files_counts_files_not_lines(tmp_path: Path) -> None:
    bad = CLEAN.replace("def upgrade", "# op.drop_table('a')\n# op.drop_table('b')\ndef upgrade")
    findings = scan_blockers(
        [write(tmp_path, bad, "a.py"), write(tmp_path, bad, "b.py"), write(tmp_path, CLEAN, "c.py")]
    )
    assert len(findings) == 4
    assert blocked_files(findings) == 2


# -- property: clean generated files give nothing; one commented op line gives exactly one B1 at its line ------
_NAME = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True).filter(
    lambda s: s.lower() not in {"todo", "fixme", "xxx"} and not keyword.iskeyword(s)
)
_STATEMENT = st.one_of(
    st.builds(lambda t, c: f'op.add_column("{t}", sa.Column("{c}", sa.Integer))', _NAME, _NAME),
    st.builds(lambda t, c: f'op.drop_column("{t}", "{c}")', _NAME, _NAME),
    st.builds(lambda t: f'op.create_table("{t}", sa.Column("id", sa.Integer, primary_key=True))', _NAME),
    st.builds(lambda t: f'op.execute("UPDATE {t} SET x = 1")', _NAME),
    st.builds(lambda n: f"{n} = 1", _NAME),
    st.builds(lambda n: f"# {n} explains why", _NAME),
)
_BODY = st.lists(_STATEMENT, min_size=1, max_size=6)


def generated(up: list[str], down: list[str]) -> str:
    """A migration file with one-line statements only, so a line inserted anywhere is never inside a string."""
    lines = ["# A generated revision.", "import sqlalchemy as sa", "from alembic import op", "", 'revision = "0001_g"']
    lines += ["down_revision = None", "", "", "def upgrade() -> None:"]
    lines += [f"    {s}" for s in up] + ["", "", "def downgrade() -> None:"] + [f"    {s}" for s in down]
    # A body of only comments is not a body: give each function one real statement.
    lines.insert(lines.index("def downgrade() -> None:") - 2, "    op.execute('SELECT 1')")
    lines.append("    op.execute('SELECT 1')")
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(up=_BODY, down=_BODY)
def test_property_clean_bodies_give_nothing(tmp_path: Path, up: list[str], down: list[str]) -> None:
    assert scan_blockers([write(tmp_path, generated(up, down))]) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(up=_BODY, down=_BODY, where=st.floats(0, 1), indent=st.sampled_from(["", "    ", "\t"]), call=_STATEMENT)
def test_property_one_commented_op_line_is_one_b1(
    tmp_path: Path, up: list[str], down: list[str], where: float, indent: str, call: str
) -> None:
    lines = generated(up, down).splitlines()
    at = int(where * len(lines))
    op_call = call if call.startswith("op.") else "op.drop_table('t')"
    lines.insert(at, f"{indent}# {op_call}")
    findings: list[Finding] = scan_blockers([write(tmp_path, "\n".join(lines) + "\n")], root=tmp_path)
    assert [(f.rule, f.object) for f in findings] == [("B1-commented-code", f"0001_x.py:{at + 1}")]
