"""Settings from ``[tool.dbops]`` in pyproject.toml, overridable by flags and the environment."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbops.core import discover
from dbops.core.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BACKENDS = ("url", "embedded", "docker")


@dataclass(frozen=True)
class PipelineSettings:
    """The pipeline's own settings: the paths it lints, its test folders, the smoke and the sprint's start."""

    smoke: str | None = None
    unit_tests: str = "tests/unit"
    integration_tests: str = "tests/integration"
    # More test folders `test --all` runs (e.g. suites over other projects).
    extra_tests: tuple[str, ...] = ()
    lint_paths: tuple[str, ...] = ("src", "tests")
    typecheck_paths: tuple[str, ...] = ("src",)
    # The revision the sprint started from (`invoke scenario` rebuilds that state).
    sprint_start: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything dbops needs to know about one Alembic project."""

    root: Path
    alembic_ini: Path
    metadata: str
    database: str = "app"
    seed: str | None = None
    backend: str | None = None
    url: str | None = None
    allow_tables: tuple[str, ...] = ()
    disposable: tuple[str, ...] = ()
    cache_dir: Path = field(default_factory=lambda: Path(".dbops"))
    docker_image: str = "postgres:16-alpine"
    pg_version: str | None = None
    # Seconds without a client or a command after which an embedded cluster stops itself (0: never).
    idle_stop: float = 1800.0
    # The alembic.ini section to use (Alembic's ``--name``), for files holding several environments.
    alembic_name: str = "alembic"
    # Environment variables env.py may read the database URL from; each is set for the duration of a migration.
    url_env: tuple[str, ...] = ("DATABASE_URL",)
    # Downgrades at or below this revision are not expected (irreversible by design); the round trip stops above it.
    downgrade_floor: str | None = None
    # Where env.py keeps Alembic's version table (its configure(version_table=..., version_table_schema=...)).
    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    # Schemas whose tables the checks compare.
    schemas: tuple[str, ...] = ("public",)
    # module:callable run with the database URL before the first migration of an empty database.
    before_migrate: str | None = None
    # The interpreter that runs the project's code (its own venv); default: the active venv, .venv, or dbops's.
    python: str | None = None
    # The driver the project's URL names (psycopg2, psycopg, asyncpg); default: its own URL's, else one installed.
    driver: str | None = None
    # Modules to import, and a callable to call, before the metadata is complete (model registries).
    models: tuple[str, ...] = ()
    import_all: str | None = None
    # Models placed per tenant (schema=None, schema_translate_map): the tenant schema they are checked in.
    tenant_schema: str | None = None
    # Seconds a statement of the project's code waits for a lock before it fails (its own sessions may deadlock).
    lock_timeout: float = 60.0
    # A history that does not start empty: a schema dump (a .sql file) or "create_all", stamped at a revision.
    baseline: str | None = None
    baseline_revision: str | None = None
    # Review findings the project accepts: "REVISION:RULE:REASON" ("*" for every revision).
    review_allow: tuple[str, ...] = ()
    # What full-check runs besides the database work (the library's core never reads these).
    pipeline: PipelineSettings = field(default_factory=lambda: PipelineSettings())

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed; ``None`` values are ignored."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def resolved_backend(self) -> str:
        """The backend to use: explicit, else ``url`` when a URL is known, else ``embedded``."""
        name = self.backend or ("url" if self.url else "embedded")
        if name not in BACKENDS:
            raise ConfigError(f"unknown backend {name!r}", f"use one of: {', '.join(BACKENDS)}")
        return name


_PIPELINE_KEYS = {f.name for f in dataclasses.fields(PipelineSettings)}


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding a pyproject.toml or an alembic.ini (else ``start``)."""
    return discover.project_root(start or Path.cwd())


def _dbops_table(pyproject: Path) -> dict[str, Any]:
    """``[tool.dbops]`` of ``pyproject`` (empty without the file), its keys and their types checked."""
    data: dict[str, Any] = {}
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{pyproject} is not valid TOML: {exc}", "fix the file's syntax") from None
    table: dict[str, Any] = dict(data.get("tool", {}).get("dbops", {}))
    known = {f.name for f in dataclasses.fields(Settings)} - {"pipeline"} | _PIPELINE_KEYS
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"unknown [tool.dbops] keys: {', '.join(unknown)}", f"known keys: {', '.join(sorted(known))}")
    _check_types(table, pyproject)
    return table


def _environment_values(env: dict[str, str]) -> dict[str, Any]:
    """What DATABASE_URL and the DBOPS_* variables that are not [tool.dbops] keys set."""
    values: dict[str, Any] = {"url": env.get("DATABASE_URL") or None}
    if env.get("DBOPS_PG_VERSION"):
        values["pg_version"] = env["DBOPS_PG_VERSION"]
    if env.get("DBOPS_IDLE_STOP"):
        try:
            values["idle_stop"] = float(env["DBOPS_IDLE_STOP"])
        except ValueError:
            raise ConfigError(
                f"DBOPS_IDLE_STOP={env['DBOPS_IDLE_STOP']!r} is not a number of seconds", "e.g. DBOPS_IDLE_STOP=1800"
            ) from None
    if env.get("DBOPS_DOCKER_IMAGE"):
        values["docker_image"] = env["DBOPS_DOCKER_IMAGE"]
    return values


def load_settings(start: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """``[tool.dbops]`` of the project's pyproject.toml (if any), then DATABASE_URL and DBOPS_* variables.

    Without a metadata setting, the metadata is the one env.py's target_metadata names.
    """
    root = find_root(start)
    env = {**read_dotenv(root / ".env"), **(os.environ if env is None else env)}
    table = _dbops_table(root / "pyproject.toml")
    for key, var in discover.OVERRIDES.items():
        if env.get(var):
            table[key] = env[var].split(",") if key == "schemas" else env[var]
    if "alembic_ini" in table:
        table["alembic_ini"] = str((root / table["alembic_ini"]).resolve())
    if "metadata" not in table:
        ini = root / table.get("alembic_ini", "alembic.ini")
        table["metadata"] = discover.metadata_for(root, ini, table.get("alembic_name", "alembic"))
    if len(table.get("schemas", ["public"])) != 1:
        raise ConfigError(
            f"schemas = {table['schemas']!r}: the checks compare one schema per run",
            "name one schema (run once per schema)",
        )
    values: dict[str, Any] = dict(table)
    values["alembic_ini"] = root / table.get("alembic_ini", "alembic.ini")
    values["cache_dir"] = root / str(env.get("DBOPS_CACHE_DIR") or table.get("cache_dir", ".dbops"))
    values.update((key, tuple(table[key])) for key in LIST_KEYS if key in table)
    values["backend"] = env.get("DBOPS_BACKEND") or table.get("backend")
    values.update(_environment_values(env))
    pipeline = PipelineSettings(**{k: values.pop(k) for k in _PIPELINE_KEYS if k in values})
    return Settings(root=root, pipeline=pipeline, **values)


# [tool.dbops] keys that take a list of strings, and those that take a number; every other key takes a string.
LIST_KEYS = (
    "allow_tables",
    "disposable",
    "lint_paths",
    "typecheck_paths",
    "url_env",
    "schemas",
    "extra_tests",
    "models",
    "review_allow",
)
NUMBER_KEYS = ("idle_stop", "lock_timeout")


def _check_types(table: dict[str, Any], source: Path) -> None:
    """Refuse a setting of the wrong type in one line naming the key, the type expected and an example."""
    for key, value in table.items():
        if key in LIST_KEYS:
            ok = isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value)
            expected, example = "a list of strings", f'{key} = ["{value if isinstance(value, str) else "..."}"]'
        elif key in NUMBER_KEYS:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            expected, example = "a number", f"{key} = 1800"
        else:
            ok = isinstance(value, str)
            expected, example = "a string", f'{key} = "..."'
        if not ok:
            raise ConfigError(
                f"[tool.dbops] {key} = {value!r} in {source.name} is not {expected}",
                f"write it as {example}",
            )


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a .env file (comments and blanks skipped); {} when there is none."""
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            out[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return out
