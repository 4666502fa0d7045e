"""What env.py tells Alembic beyond the connection: its version table and its autogenerate filters.

Learnt by running env.py with no steps and ``dont_mutate`` (nothing in any database changes), or
remembered from the guarded migration runs, once per project.
"""

from __future__ import annotations

from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Connection

from dbops.core.config import Settings

# What each project's env.py passes to context.configure about its version table, learnt by running it.
_ENV_VERSION: dict[Settings, dict[str, Any]] = {}
_ENV_FILTERS: dict[Settings, dict[str, Any]] = {}
_VERSION_KEYS = ("version_table", "version_table_schema")
# The project's own choice of what autogenerate looks at; dbops's stricter compare options stay its own.
_FILTER_KEYS = ("include_object", "include_name")


def remember_env_options(settings: Settings, opts: dict[str, Any]) -> None:
    """Keep the version-table options and object filters env.py configured (seen while it ran)."""
    _ENV_VERSION[settings] = {key: opts[key] for key in _VERSION_KEYS if opts.get(key)}
    _ENV_FILTERS[settings] = {key: opts[key] for key in _FILTER_KEYS if callable(opts.get(key))}


def env_filters(settings: Settings, conn: Connection) -> dict[str, Any]:
    """env.py's include_object/include_name, for comparing what the project compares."""
    env_version_options(settings, conn)
    return _ENV_FILTERS.get(settings, {})


def env_version_options(settings: Settings, conn: Connection) -> dict[str, Any]:
    """The version_table/version_table_schema env.py configures, from a run that changes nothing."""
    if settings not in _ENV_VERSION:
        seen: dict[str, Any] = {}

        def probe(rev: Any, context: Any) -> list[Any]:
            seen.update(context.opts)
            return []

        try:
            from dbops.migrations import alembic_config

            cfg = alembic_config(settings, connection=conn, url=conn.engine.url)
            script = ScriptDirectory.from_config(cfg)
            with EnvironmentContext(cfg, script, fn=probe, dont_mutate=True):
                script.run_env()
        except Exception:  # noqa: BLE001 - an env.py that cannot run here: the settings decide
            pass
        remember_env_options(settings, seen)
    return _ENV_VERSION[settings]


def included_table(settings: Settings, conn: Connection, name: str, schema: str) -> bool:
    """False if env.py's include_name/include_object leave the database table ``name`` out of autogenerate."""
    filters = env_filters(settings, conn)
    try:
        if "include_name" in filters and not filters["include_name"](name, "table", {"schema_name": None}):
            return False
        table = Table(name, MetaData(), schema=None if schema == "public" else schema)
        return "include_object" not in filters or bool(filters["include_object"](table, name, "table", True, None))
    except Exception:  # noqa: BLE001 - a filter that cannot judge a bare table: keep the table in
        return True
