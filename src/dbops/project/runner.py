"""The project's code, run the way it runs itself: its interpreter, its SQLAlchemy and driver, one process per database.

dbops never imports the project's env.py, models, seed or hooks. It starts the agent
(``dbops/project/agent.py``, which imports nothing from dbops) with the project's interpreter in the
project's root, the database URL already in every variable the project reads, and talks to it in
JSON lines. A failure comes back as data and becomes one DbopsError line here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError, DbopsError, ModelsUnbuilt, command_hint
from dbops.core.urls import mask_text, mask_url, plain_url
from dbops.project.errors import StatementFailed, agent_error
from dbops.project.loaded import Loaded, collecting, loaded_by_project, note_loaded
from dbops.project.python import interpreter, project_url

AGENT = Path(__file__).with_name("agent.py")
__all__ = ["Loaded", "Project", "call_project", "collecting", "create_all", "loaded_by_project", "url_variables"]


def url_variables(settings: Settings, url: URL) -> dict[str, str]:
    """The environment variables ``url_env`` names, set to the URL (or a part of it: ``NAME={host}``)."""
    parts = {
        "url": plain_url(url),
        "libpq": plain_url(url.set(drivername="postgresql")),
        "host": url.host or "",
        "port": str(url.port or 5432),
        "user": url.username or "",
        "password": url.password or "",
        "database": url.database or "",
        "driver": url.drivername,
    }
    out: dict[str, str] = {}
    for entry in settings.url_env:
        name, sep, template = entry.partition("=")
        try:
            out[name] = template.format(**parts) if sep else parts["url"]
        except KeyError as exc:
            raise ConfigError(
                f"url_env entry {entry!r} names {exc.args[0]!r}, which is not a part of a URL",
                "use {url}, {libpq}, {host}, {port}, {user}, {password}, {database} or {driver}",
            ) from None
    return out


class Project:
    """The agent in the project's interpreter, working on one database."""

    def __init__(self, settings: Settings, url: URL, key: dict[str, int]) -> None:
        self.settings = settings
        self.python = interpreter(settings)
        self.url = project_url(settings, url, self.python)
        env = {**os.environ, **url_variables(settings, self.url)}
        # A migration that waits on a lock of its own (a second session inside one revision) would hang the run
        # for ever: each statement of the project's (libpq) connections gives up after lock_timeout instead.
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} -c lock_timeout={int(settings.lock_timeout * 1000)}".strip()
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # invoke's choice for its own process, not the project's
        # What the project prints, kept for a failure's line; closed by close(), as long as the agent lives.
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        read, write = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [str(self.python), str(AGENT), str(write)],
                stdin=subprocess.PIPE,
                stdout=self._log,
                stderr=self._log,
                cwd=settings.root,
                env=env,
                pass_fds=(write,),
            )
        finally:
            os.close(write)
        self._replies = os.fdopen(read, "rb")
        self.request(
            "open",
            "opening the project's Alembic environment",
            root=str(settings.root),
            ini=str(settings.alembic_ini),
            section=settings.alembic_name,
            url=plain_url(self.url),
            key=key,
        )

    def request(self, op: str, what: str = "", **args: Any) -> Any:
        """Send one request and return its result; a failure becomes the DbopsError that says ``what`` failed."""
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write((json.dumps({"op": op, "args": args}) + "\n").encode())
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise self._died() from None
        line = self._replies.readline()
        if not line:
            raise self._died()
        reply = json.loads(line)
        if reply["ok"]:
            return reply["result"]
        if reply["error"].get("traceback") and os.environ.get("DBOPS_DEBUG"):
            print(reply["error"]["traceback"], file=sys.stderr)
        raise agent_error(reply["error"], what or op, self.url)

    def output_tail(self, lines: int = 3) -> str:
        """The last lines the project printed (masked), for a failure's message."""
        self._log.seek(0)
        text = self._log.read().decode(errors="replace").strip()
        return mask_text(" | ".join(text.splitlines()[-lines:]))

    def _died(self) -> DbopsError:
        code = self._proc.wait()
        tail = self.output_tail()
        return ConfigError(
            f"the project's interpreter {self.python} stopped (exit {code}) while working on {mask_url(self.url)}"
            + (f": {tail}" if tail else ""),
            f"run it by hand, or `{command_hint('--debug ...')}`",
        )

    def _record_loaded(self) -> None:
        """Add what this agent imported to the process's list (or mark the list unknown)."""
        try:
            found = (
                self.request("loaded", "listing the files the project loaded") if self._proc.poll() is None else None
            )
        except DbopsError:
            found = None
        note_loaded(found)

    def close(self) -> None:
        """End the agent (it closes its connection) and wait for it."""
        self._record_loaded()
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.close()
            except BrokenPipeError:
                pass  # it already went
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._replies.close()
        self._log.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def call_project(settings: Settings, url: URL, target: str, what: str) -> Any:
    """Call the project's ``module:function`` with the database URL (its driver's), in its own interpreter."""
    # No env.py runs here, so the guard's marker is never asked for.
    with Project(settings, url, {"a": 0, "b": 0}) as project:
        return project.request("call", what, target=target, args=[plain_url(project.url)])


def create_all(settings: Settings, url: URL) -> dict[str, Any]:
    """Build the models into the (empty, scratch) database at ``url`` with the project's own SQLAlchemy."""
    schema = settings.tenant_schema
    with Project(settings, url, {"a": 0, "b": 0}) as project:
        try:
            built: dict[str, Any] = project.request(
                "create_all",
                "building the models (create_all)",
                metadata=settings.metadata or None,
                modules=list(settings.models),
                import_all=settings.import_all,
                schema=schema,
            )
        except StatementFailed as exc:  # the models', not the history's: no migration is to blame
            raise ModelsUnbuilt(
                exc.message, "the models' create_all fails on PostgreSQL: fix the model it names"
            ) from None
    return built
