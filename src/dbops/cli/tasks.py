"""dbops's invoke tasks, for any Alembic project: `dbops --list`, or import ``namespace`` in a tasks.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from invoke.collection import Collection
from invoke.context import Context
from invoke.tasks import task

from dbops import lifecycle, migrations
from dbops.backends import servers
from dbops.backends.base import get_backend
from dbops.cli import BACKEND_HELP, DB_HELP, fail, handled, settings_for
from dbops.core.errors import EXIT_USAGE
from dbops.core.urls import libpq_url, mask_url


# -- database lifecycle ----------------------------------------------------------------------------
@task(
    help={
        **DB_HELP,
        "revision": "migrate to this revision instead of head",
        "no_seed": "skip the seed data",
        "naive": "drop, create and migrate without the template cache",
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
) -> None:
    """Drop and recreate the database, migrate it to head and seed it (refuses non-local hosts)."""
    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings, will_drop=True)
    result = lifecycle.reset(settings, tgt, revision=revision, with_seed=not no_seed, use_template=not naive)
    print(
        f"reset {mask_url(result.url)} to {revision} ({result.strategy}, {result.seconds:.2f} s"
        f"{', seeded' if result.seeded else ''})"
    )


@task(help=DB_HELP)
@handled
def seed(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Load the project's seed data (the `seed` callable in its settings); idempotent."""
    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings)
    if not lifecycle.seed(settings, tgt.url):
        raise fail("no seed configured", EXIT_USAGE)
    print(f"seeded {mask_url(tgt.url)}")


@task(help={**DB_HELP, "revision": "target revision (default head)"}, default=True)
@handled
def migrate_up(c: Context, backend: str | None = None, url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database to head, or to --revision."""
    settings = settings_for(backend, url)
    db_url = lifecycle.ensure_database(lifecycle.target(settings))
    migrations.upgrade(settings, db_url, revision)
    print(f"{mask_url(db_url)} is at {migrations.current(settings, db_url) or 'base'}")


@task(help={**DB_HELP, "revision": "revision to go down to (e.g. -1, base, 0003_provider_columns)"})
@handled
def migrate_down(c: Context, revision: str, backend: str | None = None, url: str | None = None) -> None:
    """Downgrade the database to --revision."""
    settings = settings_for(backend, url)
    tgt = lifecycle.target(settings)
    migrations.downgrade(settings, tgt.url, revision)
    print(f"{mask_url(tgt.url)} is at {migrations.current(settings, tgt.url) or 'base'}")


@task(help=DB_HELP)
@handled
def migrate_current(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Print the database's current revision."""
    settings = settings_for(backend, url)
    print(migrations.current(settings, lifecycle.ensure_database(lifecycle.target(settings))) or "base")


@task
@handled
def migrate_history(c: Context) -> None:
    """List the revisions from base to head."""
    for rev, down, doc in migrations.history(settings_for()):
        print(f"{down or 'base'} -> {rev}  {doc}")


@task(help={**DB_HELP, "message": "what the revision does", "empty": "an empty revision, no autogenerate"})
@handled
def migrate_new(
    c: Context, message: str, backend: str | None = None, url: str | None = None, empty: bool = False
) -> None:
    """Autogenerate a new revision from the models (the database is brought to head first)."""
    settings = settings_for(backend, url)
    db_url = lifecycle.ensure_database(lifecycle.target(settings))
    migrations.upgrade(settings, db_url, "head")
    print(f"created {migrations.new_revision(settings, db_url, message, autogenerate=not empty)}")


@task(help=DB_HELP)
@handled
def db_up(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Start (or reach) the database server and print its URL, password masked."""
    settings = settings_for(backend, url)
    print(mask_url(lifecycle.target(settings).url))


@task(
    help={
        "backend": BACKEND_HELP,
        "destroy": "also delete the embedded cluster's data",
        "all_orphans": "stop every dbops server on this machine whose checkout is gone, and delete its data",
    }
)
@handled
def db_stop(c: Context, backend: str | None = None, destroy: bool = False, all_orphans: bool = False) -> None:
    """Stop the server dbops started (embedded cluster or Docker container), or --all-orphans on the machine."""
    if all_orphans:
        gone = servers.reap(include_stale=True)
        for container in servers.docker_orphans():  # labelled containers the registry does not know
            if servers.remove_container(container.container):
                gone.append(container)
        for server in gone:
            print(f"stopped orphan: {servers.describe(server)}")
        print(f"{len(gone)} orphaned server(s) stopped")
        return
    settings = settings_for(backend)
    be = get_backend(settings)
    stopped = be.stop()
    if destroy and hasattr(be, "destroy"):
        be.destroy()
    print(f"{be.name}: {'stopped' if stopped else 'was not running'}{', data deleted' if destroy else ''}")


@task(help={**DB_HELP, "show_password": "print the password too (careful: it ends up in your terminal history)"})
@handled
def db_url(c: Context, backend: str | None = None, url: str | None = None, show_password: bool = False) -> None:
    """Print the database URL (password masked unless --show-password)."""
    db = lifecycle.target(settings_for(backend, url)).url
    print(libpq_url(db) if show_password else mask_url(db.set(drivername="postgresql")))


@task(help={**DB_HELP, "all": "list every dbops server on this machine, its owner and whether it is orphaned"})
@handled
def db_status(c: Context, backend: str | None = None, url: str | None = None, all: bool = False) -> None:
    """Say which backend is in use and whether its server runs (--all: every dbops server on the machine)."""
    if all:
        listed = servers.entries()
        for server in listed:
            print(servers.describe(server))
        print(f"{len(listed)} dbops server(s) recorded in {servers.registry_dir()}")
        return
    print(get_backend(settings_for(backend, url)).status())


@task(help=DB_HELP)
@handled
def db_shell(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Open psql on the database."""
    if not shutil.which("psql"):
        raise fail("psql is not installed", EXIT_USAGE)
    db = lifecycle.ensure_database(lifecycle.target(settings_for(backend, url)))
    # The password travels in the environment, not on the command line where ps would show it.
    env = {**os.environ, "PGPASSWORD": db.password or ""}
    sys.exit(subprocess.call(["psql", libpq_url(db.set(password=None))], env=env))


def namespace() -> Collection:
    """A new invoke Collection of every dbops task (add your own tasks to it)."""
    from dbops.cli import checktasks

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
