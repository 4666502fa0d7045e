"""Alembic environment that leaves the legacy import table out of autogenerate."""

from alembic import context
from flt_app.models import metadata
from sqlalchemy import engine_from_config, pool

config = context.config


def include_object(obj, name, type_, reflected, compare_to):
    """The legacy import table is filled by an outside job and has no model."""
    return not (type_ == "table" and name == "legacy_import")


def run_migrations_online() -> None:
    """Run on the handed-over connection, else on a new one to sqlalchemy.url."""
    connection = config.attributes.get("connection")
    opts = {"target_metadata": metadata, "include_object": include_object}
    if connection is not None:
        context.configure(connection=connection, **opts)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        context.configure(connection=conn, **opts)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
