"""env.py builds its own engine from the project's settings (read at import), SQLAlchemy 1.4 style."""

from alembic import context
from legacy_app import settings
from legacy_app.models import Base
from sqlalchemy import create_engine, pool

target_metadata = Base.metadata


def run_migrations_online():
    engine = create_engine(settings.DATABASE_URL, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
