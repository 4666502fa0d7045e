"""An async env.py: its engine runs on an event loop in an AnyIO worker thread; the folder depends on the dialect."""

import os

from ad_app.models import Base
from alembic import context
from anyio.from_thread import start_blocking_portal
from sqlalchemy import pool
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

config = context.config
target_metadata = Base.metadata
url = config.get_main_option("sqlalchemy.url")
dialect = make_url(url).get_backend_name()


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def apply_migrations():
    context.script.version_locations = [os.path.join(os.path.dirname(__file__), "versions", dialect)]
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


with start_blocking_portal() as portal:
    portal.call(apply_migrations)
