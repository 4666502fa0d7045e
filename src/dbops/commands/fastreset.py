"""The warm reset without SQLAlchemy or Alembic: psycopg alone, when nothing that shapes the template changed.

A full reset records what the template it used depends on: the migration folders' files, alembic.ini,
pyproject.toml, every project module loaded while the template was named (the models, the seed),
the versions of SQLAlchemy, Alembic and psycopg, the settings and the environment that chose the
server. The next reset hashes those inputs again; only if every one is unchanged, the server is the
same running process and the template still exists does it rename the spare copy (or clone the
template) itself. Anything else (a changed file, a new revision, another server) takes the full path,
which renames the template when its content would differ. Only the embedded backend has this path:
its server is local by construction, so the reset guard the full path ran still holds. A database
without dbops's mark (dbops.core.marker) is left to the full path, which asks before dropping it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dbops.core.config import Settings
from dbops.core.discover import history_files
from dbops.core.private import write_private
from dbops.core.procs import spawn_spare_builder

RECORD_VERSION = 2
DISTS = ("sqlalchemy", "alembic", "psycopg")


@dataclasses.dataclass(frozen=True)
class FastReset:
    """What a warm reset did: the masked URL of the database, the seconds it took, whether it is seeded."""

    masked_url: str
    seconds: float
    seeded: bool


def _record_path(settings: Settings, revision: str, seeded: bool) -> Path:
    # Projects may share a cache directory (DBOPS_CACHE_DIR): each project and database has its own record.
    tag = hashlib.sha256(f"{settings.root}|{settings.database}|{revision}|{seeded}".encode()).hexdigest()[:12]
    return settings.cache_dir / "warm" / f"reset-{tag}.json"


def context_key(settings: Settings, revision: str, seeded: bool) -> str:
    """A hash of the settings, the environment that picks the server, and the interpreter."""
    fields = {k: str(v) for k, v in dataclasses.asdict(settings).items()}
    env = {k: v for k, v in os.environ.items() if k.startswith("DBOPS_") or k in (*settings.url_env, "DATABASE_URL")}
    raw = json.dumps([fields, sorted(env.items()), revision, seeded, sys.version, sys.prefix], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    except OSError:
        return "missing"


def _dist_versions() -> dict[str, str]:
    """The installed versions of the libraries that build and read a template (empty when missing)."""
    from importlib import metadata

    found = {}
    for name in DISTS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = ""
    return found


def folder_files(folders: list[str]) -> list[Path]:
    """Every file under the migration folders (a revision may read a .sql or .json beside it), but bytecode."""
    return history_files([Path(f) for f in folders])


def project_modules(settings: Settings, template: str) -> list[Path] | None:
    """The project files ``template`` was built from (its identity record), or None when it has none."""
    from dbops.lifecycle import identity

    files = identity.recorded_files(settings, template.rsplit("_", 1)[0])
    return None if files is None else sorted(Path(f) for f in files)


def _inputs(settings: Settings, folders: list[str], modules: list[str]) -> dict[str, str]:
    paths = {Path(p) for p in modules}
    paths |= set(folder_files(folders))
    paths |= {settings.alembic_ini, settings.root / "pyproject.toml"}
    return {str(p): _digest(p) for p in sorted(paths)}


def migration_folders(settings: Settings) -> list[str]:
    """The script folder and every version folder of the history (this imports Alembic)."""
    from dbops import migrations

    script = migrations.open_scripts(settings)
    migrations.check_history(settings, script)
    return sorted({str(Path(script.dir)), *(str(p) for p in migrations.version_folders(script))})


def record(settings: Settings, revision: str, seeded: bool, template: str, server: dict[str, Any]) -> None:
    """After a full template reset: write down what that template depends on, for the next warm reset."""
    from dbops.lifecycle.templates import spare_name

    folders = migration_folders(settings)
    found = project_modules(settings, template)
    if found is None:
        forget(settings)  # what the template was built from is unknown: the next reset takes the full path
        return
    modules = [str(p) for p in found]
    body = {
        "version": RECORD_VERSION,
        "key": context_key(settings, revision, seeded),
        "folders": folders,
        "inputs": _inputs(settings, folders, modules),
        "modules": modules,
        "dists": _dist_versions(),
        "template": template,
        "spare": spare_name(template),  # named here, where the naming lives: the warm path imports no SQLAlchemy
        "database": settings.database,
        "server": server,
    }
    write_private(_record_path(settings, revision, seeded), json.dumps(body))


def forget(settings: Settings) -> None:
    """Drop every warm record (the next reset takes the full path and records afresh)."""
    for path in (settings.cache_dir / "warm").glob("reset-*.json"):
        path.unlink(missing_ok=True)


def _load(settings: Settings, revision: str, seeded: bool) -> dict[str, Any] | None:
    try:
        body = json.loads(_record_path(settings, revision, seeded).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("version") != RECORD_VERSION:
        return None
    if body.get("key") != context_key(settings, revision, seeded):
        return None
    if body.get("inputs") != _inputs(settings, body["folders"], body["modules"]):
        return None  # a file changed, appeared or went away: the full path decides about the template
    if body.get("dists") != _dist_versions():
        return None
    return body


def _server_alive(server: dict[str, Any]) -> bool:
    """The recorded postmaster still runs, on the recorded port, with its idle watchdog."""
    from dbops.backends.pgbin import read_postmaster_pid
    from dbops.backends.servers import process_alive

    pid, port = read_postmaster_pid(Path(server["data"]))
    watchdog = int(server.get("watchdog") or 0)
    return (
        pid != 0
        and pid == server.get("pid")
        and port == server.get("port")
        and process_alive(pid)
        and (not watchdog or process_alive(watchdog))
    )


def try_reset(settings: Settings, revision: str = "head", seed: bool = True) -> FastReset | None:
    """Reset the project's database from the recorded template, or None when the full path is needed."""
    if settings.resolved_backend != "embedded":
        return None
    seeded = bool(seed and settings.seed)
    started = time.perf_counter()
    body = _load(settings, revision, seeded)
    if body is None or not _server_alive(body["server"]):
        return None
    server = body["server"]
    try:
        password = (Path(server["home"]) / "password").read_text().strip()
    except OSError:
        return None
    import psycopg
    from psycopg import sql

    from dbops.backends.watchdog import touch_last_use
    from dbops.core import marker

    name, template, spare = body["database"], body["template"], body["spare"]
    params = {"host": server["host"], "port": server["port"], "user": server["user"], "dbname": "postgres"}
    try:
        conn = psycopg.connect(
            **params, password=password, autocommit=True, connect_timeout=5, application_name=f"dbops-{os.getpid()}"
        )
    except psycopg.Error:
        return None
    with conn:
        # One query: is the template there, and do the target and the spare carry dbops's mark?
        rows = conn.execute(
            "SELECT datname, datistemplate, shobj_description(oid, 'pg_database') FROM pg_database"
            " WHERE datname = ANY(%s)",
            ([template, name, spare],),
        ).fetchall()
        found = {row[0]: (row[1], marker.is_marked(row[2])) for row in rows}
        if not found.get(template, (False, False))[0]:
            return None  # dropped or replaced meanwhile: the full path rebuilds it
        if name in found and not found[name][1]:
            return None  # not made by dbops (or by an earlier version): the full path decides, asking first
        target = sql.Identifier(name)
        if name in found:
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(target))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(target))
        try:
            if spare in found and not found[spare][1]:
                conn.execute(marker.mark(spare))  # an earlier version's spare: the mark moves with the rename
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(spare), target))
        except psycopg.Error:
            try:  # no spare ready (or another run took it): clone the template
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(target, sql.Identifier(template)))
            except psycopg.Error:
                return None  # the full path retries and explains
            conn.execute(marker.mark(name))  # a copy does not inherit the template's comment
    touch_last_use(Path(server["home"]))
    user, where = server["user"], f"{server['host']}:{server['port']}"
    spare_server = f"postgresql+psycopg://{quote(user, safe='')}:{quote(password, safe='')}@{where}/postgres"
    spawn_spare_builder(settings.root, spare_server, template)
    masked = f"postgresql+psycopg://{server['user']}:***@{server['host']}:{server['port']}/{name}"
    return FastReset(masked, time.perf_counter() - started, seeded)
