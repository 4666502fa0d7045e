"""counts the notes through a session of its own, which it never closes"""

import os

import sqlalchemy as sa

revision = "0002_count"
down_revision = "0001_notes"
SESSIONS = []


def upgrade() -> None:
    session = sa.create_engine(os.environ["DATABASE_URL"]).connect()
    session.execute(sa.text("SELECT count(*) FROM notes"))  # its transaction stays open, holding a lock on notes
    SESSIONS.append(session)


def downgrade() -> None:
    pass
