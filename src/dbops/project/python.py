"""Which interpreter runs the project's code, what it has installed, and the URL it is handed (its own driver)."""

from __future__ import annotations

import configparser
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dbops.core.config import Settings
from dbops.core.dburl import URL, make_url
from dbops.core.errors import ConfigError

_AGENT = Path(__file__).with_name("agent.py")
# The drivers SQLAlchemy's postgresql dialect knows, in the order dbops picks one the project has.
DRIVERS = ("psycopg2", "psycopg", "asyncpg", "pg8000")
_CALL = "import json, runpy, sys; agent = runpy.run_path(sys.argv[1]); print(json.dumps(agent[{!r}](*sys.argv[2:])))"
_HELLO = _CALL.format("versions")


def interpreter(settings: Settings) -> Path:
    """The project's interpreter: ``python`` setting, the active venv (not dbops's own), .venv or venv, else ours."""
    if settings.python:
        path = Path(settings.python)
        path = path if path.is_absolute() else settings.root / path
        if not path.exists():
            raise ConfigError(f"python = {settings.python!r}: {path} does not exist", "name the project's interpreter")
        return path
    active = os.environ.get("VIRTUAL_ENV")
    # An active venv that is dbops's own (pipx's, pre-commit's) is not the project's.
    candidates = (
        [Path(active) / "bin" / "python"] if active and Path(active).resolve() != Path(sys.prefix).resolve() else []
    )
    candidates += [settings.root / ".venv" / "bin" / "python", settings.root / "venv" / "bin" / "python"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return Path(sys.executable)


def _ours(python: Path) -> bool:
    """True if ``python`` is the interpreter of dbops's own environment (its venv's, or the very same binary)."""
    return os.path.abspath(python) == os.path.abspath(sys.executable) or (
        Path(python).parent.parent.absolute() == Path(sys.prefix).absolute()
    )


def _installed_here() -> dict[str, Any]:
    """The same answer for dbops's own environment, from its distribution records (nothing imported)."""
    from importlib import metadata
    from importlib.util import find_spec

    try:
        versions = {"sqlalchemy": metadata.version("sqlalchemy"), "alembic": metadata.version("alembic")}
    except metadata.PackageNotFoundError as exc:
        raise ConfigError(
            f"the project's interpreter {sys.executable} cannot run Alembic: no {exc.name} installed",
            "install the project's dependencies there, or name the interpreter that has them (python = ...)",
        ) from None
    drivers = [d for d in DRIVERS if find_spec(d) is not None]
    here = {"python": ".".join(map(str, sys.version_info[:3])), **versions, "drivers": drivers}
    return {**here, "sys_path": [p for p in sys.path if p]}


@functools.lru_cache(maxsize=8)
def installed(python: Path) -> dict[str, Any]:
    """The interpreter's Python, SQLAlchemy and Alembic versions and PostgreSQL drivers (asked once a process)."""
    if _ours(python):
        here = _installed_here()
        _supported(python, "SQLAlchemy", here["sqlalchemy"], SUPPORTED["sqlalchemy"])
        _supported(python, "Alembic", here["alembic"], SUPPORTED["alembic"])
        return here
    run = subprocess.run(
        [str(python), "-c", _HELLO, str(_AGENT)], capture_output=True, text=True, timeout=120, check=False
    )
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConfigError(
            f"the project's interpreter {python} cannot run Alembic: {last}",
            "install the project's dependencies there, or name the interpreter that has them (python = ...)",
        )
    versions: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    _supported(python, "SQLAlchemy", versions["sqlalchemy"], SUPPORTED["sqlalchemy"])
    _supported(python, "Alembic", versions["alembic"], SUPPORTED["alembic"])
    return versions


# The oldest releases the agent runs on (it uses nothing newer than these offer); no upper bound is known.
SUPPORTED = {"sqlalchemy": (1, 3), "alembic": (1, 0)}


def _supported(python: Path, name: str, version: str, oldest: tuple[int, int]) -> None:
    """Refuse, in one line, a library older than dbops can drive."""
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if parts < oldest:
        raise ConfigError(
            f"the project's interpreter {python} has {name} {version}; dbops runs projects on "
            f"{name} {'.'.join(map(str, oldest))} or newer",
            f"upgrade {name} in the project's environment, or name another interpreter (python = ...)",
        )


def _named_driver(raw: str | None) -> str | None:
    """The driver a URL's scheme names (postgresql+psycopg2 -> psycopg2), None without one or for a placeholder."""
    if not raw or "://" not in raw:
        return None
    try:
        url = make_url(raw)
    except ValueError:
        return None
    name = url.drivername
    return name.split("+", 1)[1] if "+" in name and name.startswith("postgres") else None


def _ini_url(settings: Settings) -> str | None:
    """sqlalchemy.url of the project's alembic.ini section, as written."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(settings.alembic_ini, encoding="utf-8")
    return parser.get(settings.alembic_name, "sqlalchemy.url", fallback=None)


def project_url(settings: Settings, url: URL, python: Path) -> URL:
    """``url`` with the driver the project uses: ``driver`` setting, its own URL's, else one it has installed."""
    driver = settings.driver or _named_driver(settings.url) or _named_driver(_ini_url(settings))
    if driver is None:
        have = installed(python)["drivers"]
        driver = next((d for d in DRIVERS if d in have), None)
        if driver is None:
            raise ConfigError(
                f"the project's interpreter {python} has no PostgreSQL driver ({', '.join(DRIVERS)})",
                "install the one the project uses, e.g. pip install psycopg2-binary",
            )
    return url.set(drivername=f"postgresql+{driver}")
