"""Per-tenant migrations: the tenant's schema on the search_path (TENANT, else tenant_default)."""

import os

from alembic import context
from sqlalchemy import engine_from_config, pool, text
from tn_app.models import metadata

config = context.config
tenant = context.get_x_argument(as_dictionary=True).get("tenant") or os.environ.get("TENANT", "tenant_default")


def run_on(connection) -> None:
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{tenant}"'))
    connection.execute(text(f'SET search_path TO "{tenant}"'))
    connection.commit()
    connection.dialect.default_schema_name = tenant
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool)
    with engine.connect() as conn:
        run_on(conn)
