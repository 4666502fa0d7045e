"""The small interface every database backend implements, and the registry that finds them."""

from __future__ import annotations

import abc
import importlib
from importlib.metadata import entry_points
from types import TracebackType
from typing import ClassVar

from dbops.backends import orphans
from dbops.core.config import Settings
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError

# Built-in backends, imported only when chosen so that e.g. the Docker SDK stays optional.
BUILTIN = {
    "url": "dbops.backends.url:UrlBackend",
    "embedded": "dbops.backends.embedded:EmbeddedBackend",
    "docker": "dbops.backends.docker:DockerBackend",
}


class Backend(abc.ABC):
    """A PostgreSQL server we can reach; as a context manager it yields the server's URL.

    The URL names the maintenance database (``postgres``); callers pick their own
    database with :func:`dbops.core.urls.with_database`.
    """

    name: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abc.abstractmethod
    def start(self) -> URL:
        """Make sure the server runs and accepts connections; return its URL."""

    def stop(self) -> bool:
        """Stop what this backend started; return True if something was stopped."""
        return False

    def status(self) -> str:
        """One line about the server's state, password masked."""
        return f"{self.name}: no status"

    def __enter__(self) -> URL:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Servers are kept between commands on purpose (speed); `db.stop` ends them.
        return None


def available() -> dict[str, str]:
    """Backend names and the ``module:Class`` implementing each, plug-ins included."""
    found = dict(BUILTIN)
    for ep in entry_points(group="dbops.backends"):
        found[ep.name] = ep.value
    return found


def get_backend(settings: Settings, name: str | None = None) -> Backend:
    """The backend chosen by ``name``, the settings or the default rules (orphaned servers are reaped first)."""
    orphans.reap_once()
    chosen = name or settings.resolved_backend
    # A built-in needs no look at the installed plug-ins (reading every distribution's entry points costs ~0.1 s).
    table = BUILTIN if chosen in BUILTIN else available()
    if chosen not in table:
        raise ConfigError(f"unknown backend {chosen!r}", f"use one of: {', '.join(sorted(table))}")
    module_name, _, cls_name = table[chosen].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    backend: Backend = cls(settings)
    return backend
