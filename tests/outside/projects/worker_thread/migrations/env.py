"""An async env.py that must run in an AnyIO worker thread: it hands its coroutine to the thread's event loop."""

from alembic import context
from anyio.from_thread import run
from sqlalchemy import pool
from sqlalchemy.ext.asyncio import create_async_engine
from wt_app.models import Base

config = context.config
target_metadata = Base.metadata


def do_run_migrations(connection):
    context.configure(connection=connection, target_metadata=target_metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()


async def apply_migrations():
    engine = create_async_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


run(apply_migrations)  # NoEventLoopError outside a worker thread: the project runs `alembic` commands in one
