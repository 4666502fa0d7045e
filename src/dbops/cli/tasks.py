"""dbops's invoke tasks, for any Alembic project: `dbops --list`, or import ``namespace`` in a tasks.py.

Each task parses its arguments, makes one call into :mod:`dbops.commands` and prints the answer. The
commands are imported inside the tasks: listing tasks must not load SQLAlchemy, Alembic or psycopg.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from dbops.cli.shared import BACKEND_HELP, DB_HELP, fail, handled, settings_for
from dbops.core.errors import EXIT_USAGE


# -- database lifecycle ----------------------------------------------------------------------------
@task(
    help={
        **DB_HELP,
        "revision": "migrate to this revision instead of head",
        "no_seed": "skip the seed data",
        "naive": "drop, create and migrate without the template cache",
        "no_cache": "build the template again even when nothing it was built from changed",
        "yes": "drop the database even if dbops did not create it (otherwise asked on a terminal, else refused)",
    }
)
@handled
def reset_db(
    c: Context,
    backend: str | None = None,
    url: str | None = None,
    revision: str = "head",
    no_seed: bool = False,
    naive: bool = False,
    no_cache: bool = False,
    yes: bool = False,
) -> None:
    """Drop and recreate the database, migrate and seed it (asks first if dbops did not create it)."""
    from dbops.commands import db
    from dbops.core.urls import mask_url

    settings = settings_for(backend, url)
    result = db.reset(settings, revision=revision, seed=not no_seed, naive=naive, yes=yes, no_cache=no_cache)
    print(_reset_line(mask_url(result.url), revision, result.strategy, result.seconds, result.seeded))


def _reset_line(masked_url: str, revision: str, strategy: str, seconds: float, seeded: bool) -> str:
    return f"reset {masked_url} to {revision} ({strategy}, {seconds:.2f} s{', seeded' if seeded else ''})"


@task(help=DB_HELP)
@handled
def seed(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Load the project's seed data (the `seed` callable in its settings); idempotent."""
    from dbops.commands import db
    from dbops.core.urls import mask_url

    print(f"seeded {mask_url(db.seed(settings_for(backend, url)))}")


@task(help={**DB_HELP, "revision": "target revision (default head)"}, default=True)
@handled
def migrate_up(c: Context, backend: str | None = None, url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database to head, or to --revision."""
    from dbops.commands import db
    from dbops.core.urls import mask_url

    database, at = db.upgrade(settings_for(backend, url), revision)
    print(f"{mask_url(database)} is at {at or 'base'}")


@task(help={**DB_HELP, "revision": "revision to go down to (e.g. -1, base, 0003_provider_columns)"})
@handled
def migrate_down(c: Context, revision: str, backend: str | None = None, url: str | None = None) -> None:
    """Downgrade the database to --revision."""
    from dbops.commands import db
    from dbops.core.urls import mask_url

    database, at = db.downgrade(settings_for(backend, url), revision)
    print(f"{mask_url(database)} is at {at or 'base'}")


@task(help=DB_HELP)
@handled
def migrate_current(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Print the database's current revision."""
    from dbops.commands import db

    print(db.current(settings_for(backend, url)) or "base")


@task
@handled
def migrate_history(c: Context) -> None:
    """List the revisions from base to head."""
    from dbops.commands import db

    for rev, down, doc in db.history(settings_for()):
        print(f"{down or 'base'} -> {rev}  {doc}")


@task(help={**DB_HELP, "message": "what the revision does", "empty": "an empty revision, no autogenerate"})
@handled
def migrate_new(
    c: Context, message: str, backend: str | None = None, url: str | None = None, empty: bool = False
) -> None:
    """Autogenerate a new revision from the models (the database is brought to head first)."""
    from dbops.commands import db

    print(f"created {db.new_revision(settings_for(backend, url), message, autogenerate=not empty)}")


@task(help=DB_HELP)
@handled
def db_up(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Start (or reach) the database server and print its URL, password masked."""
    from dbops.commands import db
    from dbops.core.urls import mask_url

    print(mask_url(db.server_url(settings_for(backend, url))))


@task(
    help={
        "backend": BACKEND_HELP,
        "destroy": "also delete the embedded cluster's data",
        "all_orphans": "stop every dbops server on this machine whose checkout is gone, and delete its data"
        " (stopped servers' cluster homes too)",
    }
)
@handled
def db_stop(c: Context, backend: str | None = None, destroy: bool = False, all_orphans: bool = False) -> None:
    """Stop the server dbops started (embedded cluster or Docker container), or --all-orphans on the machine."""
    from dbops.backends import servers
    from dbops.commands import db

    if all_orphans:
        gone, homes = db.stop_orphans()
        for server in gone:
            print(f"stopped orphan: {servers.describe(server)}")
        for home in homes:
            print(f"deleted orphaned home: {home.path} (owner {home.owner or 'not recorded'})")
        print(f"{len(gone)} orphaned server(s) stopped")
        print(f"{len(homes)} orphaned cluster home(s) deleted")
        return
    name, stopped = db.stop(settings_for(backend), destroy)
    print(f"{name}: {'stopped' if stopped else 'was not running'}{', data deleted' if destroy else ''}")


@task(help={**DB_HELP, "show_password": "print the password too (careful: it ends up in your terminal history)"})
@handled
def db_url(c: Context, backend: str | None = None, url: str | None = None, show_password: bool = False) -> None:
    """Print the database URL (password masked unless --show-password)."""
    from dbops.commands import db
    from dbops.core.urls import libpq_url, mask_url

    server = db.server_url(settings_for(backend, url))
    print(libpq_url(server) if show_password else mask_url(server.set(drivername="postgresql")))


@task(help={**DB_HELP, "all": "list every dbops server on this machine, its owner and whether it is orphaned"})
@handled
def db_status(c: Context, backend: str | None = None, url: str | None = None, all: bool = False) -> None:
    """Say which backend is in use and whether its server runs (--all: every dbops server on the machine)."""
    from dbops.commands import db

    if all:
        print("\n".join(db.machine_status()))
        return
    print(db.status(settings_for(backend, url)))


@task(help=DB_HELP)
@handled
def db_shell(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Open psql on the database."""
    if not shutil.which("psql"):
        raise fail("psql is not installed", EXIT_USAGE)
    from dbops.commands import db
    from dbops.core.urls import libpq_url

    database = db.database_url(settings_for(backend, url))
    # The password travels in the environment, not on the command line where ps would show it.
    env = {**os.environ, "PGPASSWORD": database.password or ""}
    sys.exit(subprocess.call(["psql", libpq_url(database.set(password=None))], env=env))


def namespace() -> Collection:
    """A new invoke Collection of every dbops task (add your own tasks to it)."""
    from dbops.cli import checktasks, reviewtask

    ns = Collection(
        reset_db,
        seed,
        checktasks.full_check,
        checktasks.phase,
        checktasks.lint,
        checktasks.test,
        checktasks.setup,
        checktasks.consistency,
        checktasks.status,
        checktasks.audit,
        checktasks.blockers,
        checktasks.round_trip,
        reviewtask.review,
    )
    ns.add_task(checktasks.doctor_, name="doctor")  # type: ignore[arg-type]  # invoke types @task loosely
    ns.add_collection(
        Collection(
            "migrate",
            up=migrate_up,
            down=migrate_down,
            current=migrate_current,
            history=migrate_history,
            new=migrate_new,
        )
    )
    ns.add_collection(Collection("db", up=db_up, stop=db_stop, url=db_url, status=db_status, shell=db_shell))
    return ns
