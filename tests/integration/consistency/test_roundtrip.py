"""The round trip: clean on the fixture project and on billing; a downgrade that leaves an enum behind is named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dbops import migrations
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError
from dbops.migrations.roundtrip import round_trip
from dbops.report import finding_line

LEAKY = '''
"""Creates an enum type and a table; the downgrade forgets the type.

Revision ID: 0004_leaky
Revises: 0003_tags
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_leaky"
down_revision = "0003_tags"


def upgrade() -> None:
    op.create_table("leaky", sa.Column("kind", sa.Enum("a", "b", name="leaky_kind")))
    op.create_index("ix_leaky_kind", "leaky", ["kind"])


def downgrade() -> None:
    op.drop_table("leaky")
'''

LEAKY_INDEX = '''
"""Adds an index to an existing table; the downgrade forgets it.

Revision ID: 0004_leaky_index
Revises: 0003_tags
"""

from alembic import op

revision = "0004_leaky_index"
down_revision = "0003_tags"


def upgrade() -> None:
    op.create_index("ix_tags_name_lower", "tags", ["name"])


def downgrade() -> None:
    pass
'''


RENAME_TAGS = '''
"""Renames tags to labels; the downgrade renames it back.

Revision ID: 0004_labels
Revises: 0003_tags
"""

from alembic import op

revision = "0004_labels"
down_revision = "0003_tags"


def upgrade() -> None:
    op.rename_table("tags", "labels")


def downgrade() -> None:
    op.rename_table("labels", "tags")
'''

LEAKY_COLUMN = '''
"""Adds a column to labels; the downgrade forgets it.

Revision ID: 0005_label_color
Revises: 0004_labels
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_label_color"
down_revision = "0004_labels"


def upgrade() -> None:
    op.add_column("labels", sa.Column("color", sa.String(20)))


def downgrade() -> None:
    pass
'''


LEAKY_TABLE = '''
"""Creates a table with a key, a foreign key and an index; the downgrade does nothing.

Revision ID: 0004_notes
Revises: 0003_tags
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_notes"
down_revision = "0003_tags"


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tag_id", sa.Integer, sa.ForeignKey("tags.id", name="fk_notes_tag")),
    )
    op.create_index("ix_notes_tag_id", "notes", ["tag_id"])


def downgrade() -> None:
    pass
'''


RENAMED_KEY = """
\"\"\"Renames the unique constraint on tags.name; the downgrade does nothing.

Revision ID: 0004_tag_key
Revises: 0003_tags
\"\"\"

from alembic import op

revision = "0004_tag_key"
down_revision = "0003_tags"


def upgrade() -> None:
    op.execute("ALTER TABLE tags RENAME CONSTRAINT uq_tags_name TO tags_name_key")


def downgrade() -> None:
    pass
"""


def test_fixture_project_round_trip_is_clean(mini_project: Settings, mini_empty: URL) -> None:
    assert round_trip(mini_project, mini_empty) == []
    assert migrations.current(mini_project, mini_empty) == "0003_tags"


def test_leftover_enum_type_is_named(
    mini_project: Settings, mini_empty: URL, add_revision: Callable[[str, str], Path]
) -> None:
    add_revision("0004_leaky.py", LEAKY)
    findings = round_trip(mini_project, mini_empty)
    by_object = {f.object: f for f in findings}
    assert list(by_object) == ["0004_leaky", "head"], [finding_line(f) for f in findings]
    leak = by_object["0004_leaky"]
    assert leak.rule == "R1-roundtrip"
    assert leak.message == "downgrade of 0004_leaky did not restore the schema: leftover enum type leaky_kind"
    assert leak.hint == "drop it in downgrade() of 0004_leaky: op.execute('DROP TYPE leaky_kind')"
    # Upgrading again trips over the type the downgrade left.
    assert "leaky_kind" in by_object["head"].message and "already exists" in by_object["head"].message


def test_leftover_index_is_named(
    mini_project: Settings, mini_empty: URL, add_revision: Callable[[str, str], Path]
) -> None:
    add_revision("0004_leaky_index.py", LEAKY_INDEX)
    findings = round_trip(mini_project, mini_empty)
    assert [(f.object, f.message) for f in findings] == [
        (
            "0004_leaky_index",
            "downgrade of 0004_leaky_index did not restore the schema: leftover index ix_tags_name_lower",
        )
    ]
    assert findings[0].hint == "drop it in downgrade() of 0004_leaky_index: op.drop_index('ix_tags_name_lower')"


def test_round_trip_refuses_a_migrated_database(mini_project: Settings, mini_db: URL) -> None:
    with pytest.raises(ConfigError, match="needs an empty database"):
        round_trip(mini_project, mini_db)


def test_billing_round_trip_is_clean(dbops_settings: Settings, empty_database: URL) -> None:
    import billing.models  # noqa: F401 - must fail, not skip, when the models break

    findings = round_trip(dbops_settings, empty_database)
    assert findings == [], "\n".join(finding_line(f) for f in findings)


def test_a_leftover_is_not_blamed_again_on_a_revision_that_renames_its_table(
    mini_project: Settings, mini_empty: URL, add_revision: Callable[[str, str], Path]
) -> None:
    """0005 leaves labels.color; 0004's downgrade renames labels back to tags, and is not blamed for tags.color."""
    add_revision("0004_labels.py", RENAME_TAGS)
    add_revision("0005_label_color.py", LEAKY_COLUMN)
    findings = round_trip(mini_project, mini_empty)
    lines = [finding_line(f) for f in findings]
    assert [f.object for f in findings] == ["0005_label_color"], lines  # 0003 drops tags, color and all
    assert findings[0].message.endswith("did not restore the schema: leftover column labels.color")


def test_a_leftover_table_is_one_finding_with_its_keys_and_indexes(
    mini_project: Settings, mini_empty: URL, add_revision: Callable[[str, str], Path]
) -> None:
    """Its primary key, foreign key and index go with it: one finding, one fix."""
    add_revision("0004_notes.py", LEAKY_TABLE)
    findings = [f for f in round_trip(mini_project, mini_empty) if f.object == "0004_notes"]
    assert [f.message for f in findings] == ["downgrade of 0004_notes did not restore the schema: leftover table notes"]
    assert findings[0].hint == "drop it in downgrade() of 0004_notes: op.drop_table('notes')"


def test_a_constraint_not_restored_is_named_without_its_index(
    mini_project: Settings, mini_empty: URL, add_revision: Callable[[str, str], Path]
) -> None:
    """A unique constraint renamed and not renamed back: its two lines, not its index's two as well."""
    add_revision("0004_tag_key.py", RENAMED_KEY)
    found = [f.message.split(": ", 1)[1] for f in round_trip(mini_project, mini_empty) if f.object == "0004_tag_key"]
    assert found == ["leftover constraint tags.tags_name_key", "missing constraint tags.uq_tags_name"]
