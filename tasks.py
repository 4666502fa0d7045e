"""invoke tasks: dbops's collection (see ``dbops --list``) plus this repository's own (`invoke --list`)."""

from __future__ import annotations

import os
from pathlib import Path

from invoke import Collection, Context, task

from dbops.cli import DB_HELP, fail, handled, settings_for
from dbops.cli.tasks import namespace
from dbops.core.errors import EXIT_USAGE


def _use_project_database(backend: str | None, url: str | None) -> None:
    """Point DATABASE_URL at the project's database (the server dbops runs, or the given URL)."""
    from dbops.commands import db as database
    from dbops.core.urls import plain_url

    os.environ["DATABASE_URL"] = plain_url(database.database_url(settings_for(backend, url)))


@task(
    help={
        "host": "interface to bind",
        "port": "port",
        "workers": "worker processes",
        "trusted_proxies": "addresses or networks whose X-Forwarded-For is believed (comma-separated; default none)",
        **DB_HELP,
    }
)
@handled
def api(
    c: Context,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    trusted_proxies: str = "",
    backend: str | None = None,
    url: str | None = None,
) -> None:
    """Run the billing HTTP API locally (billing.api.server: uvicorn with timeouts) against the project's database."""
    from billing.api.server import serve

    _use_project_database(backend, url)
    # Set explicitly, whatever the shell had: nobody's X-Forwarded-For counts unless named here.
    os.environ["BILLING_TRUSTED_PROXIES"] = trusted_proxies
    serve(host, port, workers)


@task(help=DB_HELP)
@handled
def mail_send(c: Context, backend: str | None = None, url: str | None = None) -> None:
    """Deliver the mail that is due in the outbox now (what each API worker also does every second)."""
    from billing.api.app import outbox_sender
    from billing.services import outbox

    _use_project_database(backend, url)
    sender, engine = outbox_sender()
    try:
        sent = sender.deliver()
        with sender.sessions() as session:
            waiting = outbox.pending(session)
    finally:
        engine.dispose()
    print(f"sent {sent} mail(s); {waiting} waiting for a later attempt")


@task(help={"force": "replace an existing pre-commit hook that is not ours"})
@handled
def hooks_install(c: Context, force: bool = False) -> None:
    """Install a git pre-commit hook that runs the fast checks (bin/pre-commit-check.sh)."""
    from dbops.commands.hooks import install_pre_commit

    hook = install_pre_commit(settings_for().root, "bin/pre-commit-check.sh", force)
    print(f"installed {hook}")


@task(help={"into": "an empty (or new) folder for the copy"})
@handled
def scenario(c: Context, into: str) -> None:
    """Make a copy of this project as the sprint found it (history at the sprint start, 8 lines commented out)."""
    from billing.scenario import sprint_start

    settings = settings_for()
    if not settings.pipeline.sprint_start:
        raise fail("no sprint_start under [tool.dbops]", EXIT_USAGE)
    try:
        made = sprint_start(settings.root, Path(into).resolve(), settings.pipeline.sprint_start)
    except FileExistsError as exc:
        raise fail(f"{exc}: the copy needs a folder of its own", EXIT_USAGE) from None
    print(f"the sprint's starting point is in {made}: cd there and run `invoke status` or `invoke full-check`")


ns = namespace()
ns.add_task(api)
ns.add_task(scenario)
ns.add_collection(Collection("hooks", install=hooks_install))
ns.add_collection(Collection("mail", send=mail_send))
