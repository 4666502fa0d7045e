"""Parsing, masking and classifying PostgreSQL URLs."""

from __future__ import annotations

import ipaddress
import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from dbops.errors import ConfigError

MASK = "***"
_SCHEMES = ("postgresql", "postgres")
# Catches "user:secret@" in any free text (driver messages, logs), not only in parsed URLs.
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@\s]*)@", re.I)
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I)


def parse_url(raw: str) -> URL:
    """Parse a PostgreSQL URL into a psycopg 3 SQLAlchemy URL, or raise ConfigError."""
    text = (raw or "").strip()
    if not text:
        raise ConfigError("the database URL is empty", "set DATABASE_URL=postgresql://user:pass@host:5432/db")
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
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
    """The URL as text with its password replaced by ***."""
    if isinstance(url, str):
        return mask_text(url)
    return url.render_as_string(hide_password=True)


def plain_url(url: URL) -> str:
    """The URL with its password, for handing to a driver; never print this."""
    return url.render_as_string(hide_password=False)


def libpq_url(url: URL) -> str:
    """A libpq connection string (postgresql://...), for psql, pg_dump and psycopg."""
    return plain_url(url.set(drivername="postgresql"))


def mask_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Hide passwords in free text: URL userinfo, password=... pairs and any known secret."""
    out = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    out = _PASSWORD_KV.sub(lambda m: f"{m.group(1)}{MASK}", out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out


def is_local(url: URL) -> bool:
    """True for loopback hosts and unix sockets: the only places reset-db drops freely."""
    host = url.host or url.query.get("host")
    if isinstance(host, tuple):
        host = host[0] if host else None
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_database(url: URL, name: str) -> URL:
    """The same server, another database."""
    return url.set(database=name)
