"""invoke tasks: dbops's collection (see ``dbops --list``) plus this repository's own (`invoke --list`)."""

from __future__ import annotations

import os
from pathlib import Path

from invoke import Collection, Context, task

from dbops.cli import DB_HELP, fail, handled, settings_for
from dbops.cli.tasks import namespace
from dbops.core.errors import EXIT_USAGE


@task(help={"host": "interface to bind", "port": "port", **DB_HELP})
@handled
def api(
    c: Context, host: str = "127.0.0.1", port: int = 8000, backend: str | None = None, url: str | None = None
) -> None:
    """Run the billing HTTP API locally with uvicorn against the project's database."""
    import uvicorn

    from dbops.commands import db as database
    from dbops.core.urls import plain_url

    db = database.database_url(settings_for(backend, url))
    os.environ["DATABASE_URL"] = plain_url(db)
    uvicorn.run("billing.api.app:create_app", factory=True, host=host, port=port)


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
