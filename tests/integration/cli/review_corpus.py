"""The review's corpus: hazardous revisions and their safe spellings, each with the verdict the review must give.

Every case is a revision on top of ``r0`` (tables ``users`` and ``orgs``, an index, an enum) in a tiny
project whose env.py sets lock_timeout, unless it names another parent. The verdict is the set of rule
ids the review reports for that revision: empty for a safe spelling.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from cli_support import ENV_PY, make_project

AUTOCOMMIT = "with op.get_context().autocommit_block():\n        "

BASE = '''
"""r0: the tables a release already runs on"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "r0"
down_revision = None


def upgrade() -> None:
    op.execute("CREATE TYPE mood AS ENUM ('ok')")
    op.create_table(
        "orgs", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(100))
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("full_name", sa.Text),
        sa.Column("email", sa.String(100)),
        sa.Column("last_login_at", sa.DateTime(timezone=True)),
        sa.Column("org_id", sa.Integer),
        sa.Column("n", sa.Integer),
        sa.Column("mood", postgresql.ENUM("ok", name="mood", create_type=False)),  # made above (any SQLAlchemy 2)
    )
    op.create_index("ix_users_email", "users", ["email"])


def downgrade() -> None:
    op.drop_table("users")
    op.drop_table("orgs")
    op.execute("DROP TYPE mood")
'''

CASE = '''
"""{name}"""
from alembic import op
import sqlalchemy as sa

revision = "{name}"
down_revision = "{down}"
branch_labels = {labels}


def upgrade() -> None:
    {body}


def downgrade() -> None:
    pass
'''


@dataclass(frozen=True)
class Case:
    """One revision of the corpus and the rule ids the review must report for it (none: safe)."""

    name: str
    body: str
    expected: frozenset[str]
    down: str = "r0"


def case(name: str, body: str, *expected: str, down: str = "r0") -> Case:
    """A corpus entry."""
    return Case(name, textwrap.dedent(body).strip().replace("\n", "\n    "), frozenset(expected), down)


CASES = [
    # -- hazards -----------------------------------------------------------------------------------------
    case("set_not_null", 'op.alter_column("users", "full_name", nullable=False)', "M3-set-not-null"),
    case(
        "index_plain",
        'op.create_index("ix_users_last_login_at", "users", ["last_login_at"])',
        "M1-index-not-concurrent",
    ),
    case(
        "type_rewrite",
        'op.alter_column("users", "n", type_=sa.BigInteger(), existing_type=sa.Integer())',
        "M4-table-rewrite",
    ),
    case(
        "rename_column",
        'op.alter_column("users", "full_name", new_column_name="display_name")',
        "M7-breaks-running-code",
    ),
    case("drop_column", 'op.drop_column("users", "email")', "M7-breaks-running-code"),
    case("rename_table", 'op.rename_table("orgs", "organizations")', "M7-breaks-running-code"),
    case("drop_index_plain", 'op.drop_index("ix_users_email", table_name="users")', "M1-index-not-concurrent"),
    case(
        "fk_validated",
        'op.create_foreign_key("fk_users_org_id", "users", "orgs", ["org_id"], ["id"])',
        "M2-constraint-validated",
    ),
    case("check_validated", 'op.create_check_constraint("ck_users_n", "users", "n >= 0")', "M2-constraint-validated"),
    case(
        "unique_constraint",
        'op.create_unique_constraint("uq_users_email", "users", ["email"])',
        "M6-unique-not-concurrent",
    ),
    case(
        "volatile_default",
        'op.add_column("users", sa.Column("score", sa.Float, server_default=sa.text("random()")))',
        "M5-volatile-default",
    ),
    case(
        "two_tables_locked",
        """
        op.add_column("users", sa.Column("nickname", sa.Text))
        op.add_column("orgs", sa.Column("slug", sa.Text))
        """,
        "M9-many-exclusive-locks",
    ),
    case(
        "enum_value_used_at_once",
        """
        op.execute("ALTER TYPE mood ADD VALUE 'great'")
        op.execute("UPDATE users SET mood = 'great' WHERE n > 100")
        """,
        "M10-enum-in-transaction",
    ),
    case(
        "required_column",
        'op.add_column("users", sa.Column("age", sa.Integer, nullable=False))',
        "S-adding-required-field",
    ),
    # -- safe spellings ----------------------------------------------------------------------------------
    case(
        "index_concurrent",
        AUTOCOMMIT
        + 'op.create_index("ix_users_last_login_at", "users", ["last_login_at"], postgresql_concurrently=True)',
    ),
    case(
        "drop_index_concurrent",
        AUTOCOMMIT + 'op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)',
    ),
    case(
        "fk_not_valid",
        'op.execute("ALTER TABLE users ADD CONSTRAINT fk_users_org_id FOREIGN KEY (org_id) REFERENCES orgs (id) '
        'NOT VALID")',
    ),
    case(
        "fk_validated_later",
        'op.execute("ALTER TABLE users VALIDATE CONSTRAINT fk_users_org_id")',
        down="fk_not_valid",
    ),
    case(
        "check_not_valid",
        'op.execute("ALTER TABLE users ADD CONSTRAINT ck_users_named CHECK (full_name IS NOT NULL) NOT VALID")',
    ),
    case(
        "check_validated_later",
        'op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_users_named")',
        down="check_not_valid",
    ),
    case(
        "set_not_null_proven",
        'op.alter_column("users", "full_name", nullable=False)\nop.drop_constraint("ck_users_named", "users")',
        down="check_validated_later",
    ),
    case("nullable_column", 'op.add_column("users", sa.Column("nickname", sa.Text))'),
    case(
        "constant_default",
        'op.add_column("users", sa.Column("active", sa.Boolean, server_default=sa.true(), nullable=False))',
    ),
    case(
        "new_table_indexed",
        """
        op.create_table("events", sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.DateTime))
        op.create_index("ix_events_at", "events", ["at"])
        op.create_foreign_key("fk_events_id", "events", "orgs", ["id"], ["id"])
        """,
    ),
    case(
        "varchar_widened",
        'op.alter_column("users", "email", type_=sa.String(200), existing_type=sa.String(100))',
    ),
    case(
        "unique_using_concurrent_index",
        AUTOCOMMIT
        + 'op.create_index("uq_users_email", "users", ["email"], unique=True, postgresql_concurrently=True)\n'
        + 'op.execute("ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE USING INDEX uq_users_email")',
    ),
    case("enum_value_outside", AUTOCOMMIT + "op.execute(\"ALTER TYPE mood ADD VALUE 'meh'\")"),
    case(
        "accepted_index",
        "# dbops: allow M1 orgs holds a few hundred rows, built in milliseconds\n"
        'op.create_index("ix_orgs_name", "orgs", ["name"])',
        "M1-index-not-concurrent",
    ),
]

# The tiny project's env.py, setting lock_timeout for every revision (as the review's M8 fix says).
ENV_PY_WITH_LOCK_TIMEOUT = ENV_PY.replace(
    "        context.run_migrations()",
    "        context.execute(\"SET lock_timeout = '5s'\")\n        context.run_migrations()",
)


def write_case(versions: Path, c: Case) -> None:
    """The case's revision file in ``versions``."""
    # Each case off r0 is a branch of its own, labelled: the history's heads are deliberate.
    labels = (f"branch_{c.name}",) if c.down == "r0" else None
    (versions / f"{c.name}.py").write_text(CASE.format(name=c.name, down=c.down, body=c.body, labels=labels))


def corpus_project(root: Path, cases: list[Case] = CASES, lock_timeout: bool = True, extra: str = "") -> Path:
    """The tiny project with r0 and every case (each its own branch off its parent)."""
    make_project(root, revisions=[], pyproject_extra=extra)
    versions = root / "migrations" / "versions"
    (versions / "r0.py").write_text(BASE)
    if lock_timeout:
        (root / "migrations" / "env.py").write_text(ENV_PY_WITH_LOCK_TIMEOUT)
    for c in cases:
        write_case(versions, c)
    return root
