"""Guards: replies to bad input that never echo it, and the route audit (deny by default)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from billing.api.deps import is_public, permissions_required_by

# Long enough to say which part of the input is wrong; too short to echo a secret or a megabyte back.
ECHO_LIMIT = 40


def _short(part: object) -> str | int:
    if isinstance(part, int):
        return part
    text = str(part).encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT] + "..."


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """422 naming where and why, never the submitted value (it may be a password, or huge)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [_short(part) for part in error.get("loc", ())], "msg": _short_msg(error), "type": error.get("type")}
        for error in exc.errors()[:20]
    ]
    return JSONResponse({"detail": errors}, status_code=422)


def _short_msg(error: dict[str, Any]) -> str:
    text = str(error.get("msg", "invalid value")).encode("utf-8", "replace").decode("utf-8")
    return text[:200]


async def unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refused (out of range, a character text cannot hold): the client's fault, 422."""
    return JSONResponse({"detail": "a value is out of range or holds characters that cannot be stored"}, 422)


def unguarded_routes(routes: Iterable[BaseRoute]) -> list[str]:
    """Deny by default: every route that neither checks a permission nor is marked public().

    Give it the routers' own routes: anything that is not an APIRoute (whose dependencies can be
    read) counts as unguarded.
    """
    found = []
    for route in routes:
        if not isinstance(route, APIRoute):
            found.append(f"{type(route).__name__} {getattr(route, 'path', '?')}")
        elif not permissions_required_by(route.dependant) and not is_public(route.dependant):
            found.append(f"{','.join(sorted(route.methods or ()))} {route.path}")
    return found
