"""Alembic environment: each revision in its own transaction on the handed-over connection."""

from alembic import context
from os_app.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, transaction_per_migration=True)
with context.begin_transaction():
    context.run_migrations()
