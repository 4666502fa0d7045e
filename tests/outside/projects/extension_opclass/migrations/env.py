"""Alembic environment: the handed-over connection, else sqlalchemy.url."""

from alembic import context
from eo_app.models import metadata
from sqlalchemy import engine_from_config, pool

config = context.config


def run_migrations_online() -> None:
    """Run on the handed-over connection, else on a new one to sqlalchemy.url."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
