"""Prerequisite checks for `invoke doctor` and `invoke setup`: what is missing, and the fix."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass

from dbops.backends.pgbin import find_pgbin
from dbops.core.config import Settings
from dbops.core.errors import DbopsError
from dbops.project.python import installed, interpreter


@dataclass(frozen=True)
class Check:
    """One prerequisite: required ones fail setup, optional ones only warn."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True


def _packages() -> Check:
    missing = [m for m in ("psycopg", "invoke", "rich") if importlib.util.find_spec(m) is None]
    return Check(
        "dbops's packages",
        not missing,
        "missing: " + ", ".join(missing) if missing else "all installed",
        "pip install -e '.[dev]'",
    )


def _interpreter(settings: Settings) -> Check:
    """The project's interpreter: its SQLAlchemy, Alembic and drivers (its code runs there, never in dbops)."""
    try:
        python = interpreter(settings)
        found = installed(python)
    except DbopsError as exc:
        return Check("project's interpreter", False, exc.message, exc.hint)
    drivers = ", ".join(found["drivers"]) or "no PostgreSQL driver"
    detail = f"{python}: SQLAlchemy {found['sqlalchemy']}, Alembic {found['alembic']}, {drivers}"
    return Check("project's interpreter", bool(found["drivers"]), detail, "install the project's PostgreSQL driver")


def _server(settings: Settings) -> Check:
    backend = settings.resolved_backend
    if backend == "url":
        return Check("database server", True, "DATABASE_URL is set (url backend)")
    if backend == "docker":
        return _docker(required=True)
    try:
        pg = find_pgbin(settings.pg_version)
    except DbopsError as exc:
        return Check("PostgreSQL binaries", False, exc.message, exc.hint)
    return Check("PostgreSQL binaries", True, f"PostgreSQL {pg.major} in {pg.bindir} ({pg.source})")


def _docker(required: bool) -> Check:
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError as exc:
        return Check("Docker engine", False, f"no Docker SDK ({exc})", "pip install docker", required=required)
    try:
        docker.from_env(timeout=3).ping()
        return Check("Docker engine", True, "reachable", required=required)
    except docker.errors.DockerException as exc:
        reason = type(exc).__name__ if not str(exc) else str(exc).splitlines()[0][:120]
        return Check(
            "Docker engine",
            False,
            f"not reachable ({reason})",
            "start Docker, or use the embedded backend (default)",
            required=required,
        )


def _project(settings: Settings) -> list[Check]:
    checks = [
        Check(
            "alembic.ini",
            settings.alembic_ini.is_file(),
            str(settings.alembic_ini),
            "set alembic_ini under [tool.dbops]",
        )
    ]
    checks.append(Check("models", bool(settings.metadata), settings.metadata or "not named", "set metadata = ..."))
    return checks


def run_doctor(settings: Settings) -> list[Check]:
    """Every prerequisite check, required first."""
    py_ok = sys.version_info >= (3, 10)
    checks = [
        Check("python", py_ok, sys.version.split()[0], "install Python 3.10 or newer"),
        _packages(),
        _interpreter(settings),
        _server(settings),
        *_project(settings),
        Check(
            "cache directory",
            os.access(settings.cache_dir.parent, os.W_OK),
            str(settings.cache_dir),
            "set DBOPS_CACHE_DIR to a writable folder",
        ),
        Check(
            "psql",
            shutil.which("psql") is not None,
            "needed only for `invoke db.shell`",
            "apt-get install postgresql-client",
            required=False,
        ),
        Check(".env", (settings.root / ".env").is_file(), "local settings", "invoke setup creates it", required=False),
    ]
    if settings.resolved_backend != "docker":
        checks.append(_docker(required=False))
    return checks


def setup(settings: Settings) -> list[str]:
    """Onboarding: .env from the example, the server, migrations and seed; a line for each thing done."""
    # Here, not at the top: the doctor must run (and say what is missing) without SQLAlchemy installed.
    from dbops import lifecycle, migrations
    from dbops.core.urls import mask_url

    done: list[str] = []
    env_file, example = settings.root / ".env", settings.root / ".env.example"
    if not env_file.exists() and example.exists():
        shutil.copyfile(example, env_file)
        done.append("created .env from .env.example")
    tgt = lifecycle.target(settings)
    db = lifecycle.ensure_database(tgt)
    migrations.upgrade(settings, db, "head")
    lifecycle.seed(settings, db)
    done.append(f"ready: {mask_url(db)} at {migrations.current(settings, db)}")
    return done
