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
