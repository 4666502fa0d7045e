"""Parsing, masking and classifying PostgreSQL URLs."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping

from psycopg.conninfo import conninfo_to_dict

from dbops.core.dburl import URL, make_url
from dbops.core.errors import ConfigError
from dbops.core.masking import MASK, mask_text

__all__ = ["MASK", "URL", "mask_text"]  # re-exported: masking lives apart, importable on its own

_SCHEMES = ("postgresql", "postgres")


def parse_url(raw: str) -> URL:
    """Parse a PostgreSQL URL into dbops's own (psycopg 3) URL, or raise ConfigError."""
    text = (raw or "").strip()
    if not text:
        raise ConfigError("the database URL is empty", "set DATABASE_URL=postgresql://user:pass@host:5432/db")
    try:
        url = make_url(text)
    except ValueError:
        raise ConfigError(
            f"malformed database URL {mask_text(text)!r}",
            "use the form postgresql://USER[:PASSWORD]@HOST[:PORT]/DBNAME, port a number",
        ) from None
    backend = url.get_backend_name()
    if backend not in _SCHEMES:
        raise ConfigError(
            f"unsupported database URL scheme {backend!r} in {mask_url(url)}",
            "dbops works with PostgreSQL only: use postgresql://...",
        )
    return url.set(drivername="postgresql+psycopg")


def mask_url(url: URL | str) -> str:
    """The URL as text with its password (userinfo or ``?password=``) replaced by ***."""
    if isinstance(url, str):
        return mask_text(url)
    if "password" in url.query:
        url = url.update_query_dict({"password": MASK})
    return mask_text(url.render_as_string(hide_password=True))


def plain_url(url: URL) -> str:
    """The URL with its password, for handing to a driver; never print this."""
    return url.render_as_string(hide_password=False)


def libpq_url(url: URL) -> str:
    """A libpq connection string (postgresql://...), for psql, pg_dump and psycopg."""
    return plain_url(url.set(drivername="postgresql"))


def _local_host(host: str) -> bool:
    if host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local(url: URL, env: Mapping[str, str] | None = None) -> bool:
    """True only if every address libpq would use is loopback or a unix socket.

    Judged on the connection parameters libpq itself reads (query ``host``/``hostaddr`` win over
    the URL's host; a service file or PGHOST can point anywhere), so a URL cannot look local
    while connecting elsewhere.
    """
    env = os.environ if env is None else env
    params = conninfo_to_dict(libpq_url(url))
    if params.get("service") or env.get("PGSERVICE"):
        return False  # a service file can name any host: never assume it is local
    hosts = [h for key in ("host", "hostaddr") for h in str(params.get(key) or "").split(",") if h]
    if not hosts:
        hosts = [h for key in ("PGHOST", "PGHOSTADDR") for h in env.get(key, "").split(",") if h]
    return all(_local_host(h) for h in hosts)  # no host at all: libpq's default unix socket


def with_database(url: URL, name: str) -> URL:
    """The same server, another database."""
    return url.set(database=name)


def same_database(a: URL, b: URL) -> bool:
    """True if two URLs name the same database on the same host and port (by their text, not by asking)."""

    def key(url: URL) -> tuple[str, int, str]:
        host = url.host or str(url.query.get("host") or "localhost")
        return (host, url.port or 5432, url.database or "")

    return key(a) == key(b)
