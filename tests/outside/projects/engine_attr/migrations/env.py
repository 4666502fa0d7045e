"""Alembic environment in pytest-alembic's convention: attributes["connection"] is an Engine."""

from alembic import context
from ea_app.models import metadata
from sqlalchemy import engine_from_config, pool

config = context.config


def run_migrations_online() -> None:
    """Connect with the handed-over engine, else one built from sqlalchemy.url."""
    connectable = config.attributes.get("connection", None)
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
