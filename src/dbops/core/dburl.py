"""A database URL as dbops holds it: ``driver://user:password@host:port/database?query``, no SQLAlchemy needed.

The project's code gets the URL as text (in its own interpreter, with its own SQLAlchemy); dbops only
parses, changes and renders it, spelled as SQLAlchemy spells URLs so the two read each other's text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

# SQLAlchemy's own pattern (sqlalchemy.engine.url._parse_url), so a URL that reads there reads here.
_PATTERN = re.compile(
    r"""
    (?P<name>[\w\+]+)://
    (?:
        (?P<username>[^:/]*)
        (?::(?P<password>[^@]*))?
    @)?
    (?:
        (?:
            \[(?P<ipv6host>[^/\?]+)\] |
            (?P<ipv4host>[^/:\?]+)
        )?
        (?::(?P<port>[^/\?]*))?
    )?
    (?:/(?P<database>[^\?]*))?
    (?:\?(?P<query>.*))?
    """,
    re.X,
)


def _quote(text: str) -> str:
    return quote(text, safe=" +")


@dataclass(frozen=True)
class URL:
    """A parsed database URL; ``set`` gives a changed copy."""

    drivername: str
    username: str | None = None
    password: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None
    _query: tuple[tuple[str, str], ...] = ()

    @classmethod
    def create(
        cls,
        drivername: str,
        username: str | None = None,
        password: str | None = None,
        host: str | None = None,
        port: int | None = None,
        database: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> URL:
        """A URL from its parts."""
        return cls(drivername, username, password, host, port, database, tuple((query or {}).items()))

    @property
    def query(self) -> Mapping[str, str]:
        """The query parameters (``?host=/tmp``), read-only."""
        return MappingProxyType(dict(self._query))

    def set(self, **changes: Any) -> URL:
        """A copy with some parts changed (``query=`` replaces the query)."""
        if "query" in changes:
            changes["_query"] = tuple(dict(changes.pop("query")).items())
        return replace(self, **changes)

    def update_query_dict(self, values: Mapping[str, str]) -> URL:
        """A copy with these query parameters set."""
        return self.set(query={**self.query, **values})

    def get_backend_name(self) -> str:
        """The database part of the scheme (``postgresql`` for ``postgresql+psycopg``)."""
        return self.drivername.split("+", 1)[0]

    def render_as_string(self, hide_password: bool = True) -> str:
        """The URL as text; the password as ``***`` unless ``hide_password`` is False."""
        out = f"{self.drivername}://"
        if self.username is not None:
            out += _quote(self.username)
            if self.password is not None:
                out += ":" + ("***" if hide_password else _quote(self.password))
            out += "@"
        if self.host is not None:
            out += f"[{self.host}]" if ":" in self.host else self.host
        if self.port is not None:
            out += f":{self.port}"
        if self.database is not None:
            out += f"/{self.database}"
        if self._query:
            out += "?" + "&".join(f"{key}={_quote(value)}" for key, value in self._query)
        return out

    def __str__(self) -> str:
        return self.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return self.render_as_string(hide_password=True)


def make_url(text: str) -> URL:
    """Parse ``text``; ValueError when it is not a URL (or its port is not a number)."""
    match = _PATTERN.match(text.strip())
    if match is None:
        raise ValueError(f"could not parse a URL from {text!r}")
    parts = match.groupdict()
    port = int(parts["port"]) if parts["port"] else None
    username, password = parts["username"], parts["password"]
    return URL(
        drivername=parts["name"],
        username=unquote(username) if username is not None else None,
        password=unquote(password) if password is not None else None,
        host=parts["ipv6host"] or parts["ipv4host"] or None,
        port=port,
        database=parts["database"] or None,
        _query=tuple(parse_qsl(parts["query"] or "", keep_blank_values=True)),
    )
