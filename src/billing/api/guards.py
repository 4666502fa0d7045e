"""Edge guards: a request-body size limit, replies to bad input that never echo it, and the route audit."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from billing.api.deps import is_public, permissions_required_by

Message = dict[str, Any]
ASGIApp = Any

# Long enough to say which part of the input is wrong; too short to echo a secret or a megabyte back.
ECHO_LIMIT = 40


class BodyLimit:
    """ASGI middleware: a body over ``max_bytes`` (declared or streamed) is refused with 413 before parsing."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Read the whole body (bounded) first, then hand the app a receive that replays it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", ""):
            await _reply(send, 400, "the path must not contain NUL bytes")
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _reply(send, 413, f"the request body must be at most {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before its body arrived: nobody to answer
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await _reply(send, 413, f"the request body must be at most {self.max_bytes} bytes")
                return
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)


async def _reply(send: Any, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


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
