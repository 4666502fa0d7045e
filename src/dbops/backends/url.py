"""The ``url`` backend: an existing server named by DATABASE_URL or --url."""

from __future__ import annotations

from dbops.backends.base import Backend
from dbops.core.database import wait_ready
from dbops.core.dburl import URL
from dbops.core.errors import ConfigError
from dbops.core.urls import mask_url, parse_url, with_database


class UrlBackend(Backend):
    """A server somebody else runs: we only check that it answers."""

    name = "url"

    def _url(self) -> URL:
        if not self.settings.url:
            raise ConfigError("the url backend needs a database URL", "set DATABASE_URL or pass --url")
        return parse_url(self.settings.url)

    def start(self) -> URL:
        """Check the server answers; return its URL."""
        # The maintenance database, as every backend returns: the project's may not exist yet.
        server = with_database(self._url(), "postgres")
        wait_ready(server, timeout=5.0)
        return server

    def status(self) -> str:
        """Where the server is; we neither start nor stop it."""
        return f"url: {mask_url(self._url())} (external server, not managed by dbops)"
