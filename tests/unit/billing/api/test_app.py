"""billing.api.app: the app factory and its check that every route is guarded or public."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Depends

from billing.api.app import ROUTERS, check_routes, create_app
from billing.api.deps import public, require_permission


def test_create_app_needs_a_url_and_connects_lazily(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BILLING_JWT_SECRET", raising=False)
    monkeypatch.setenv("BILLING_JWT_SECRET_FILE", str(tmp_path / "jwt.secret"))
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app()
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:1/nowhere")  # never connected to
    first, second = create_app(), create_app()

    assert str(first.state.engine.url.drivername) == "postgresql+psycopg"
    # Without BILLING_JWT_SECRET every worker (every app) shares one generated secret, kept in a private file.
    assert first.state.jwt_secret == second.state.jwt_secret == (tmp_path / "jwt.secret").read_text()
    assert len(first.state.jwt_secret) >= 32
    assert (tmp_path / "jwt.secret").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("BILLING_JWT_SECRET", "from-the-environment-and-32-chars-long")
    assert create_app().state.jwt_secret == "from-the-environment-and-32-chars-long"
    monkeypatch.setenv("BILLING_JWT_SECRET", "short")
    with pytest.raises(RuntimeError, match="BILLING_JWT_SECRET must have at least 32 characters"):
        create_app()


def test_every_route_is_public_or_names_a_permission() -> None:
    check_routes(route for router in ROUTERS for route in router.routes)
    guarded, unguarded = APIRouter(prefix="/admin"), APIRouter()

    @guarded.get("/fine", dependencies=[Depends(require_permission("users:read"))])
    def fine() -> None: ...

    @guarded.get("/open", dependencies=[public()])
    def open_route() -> None: ...

    @unguarded.get("/oops")
    def oops() -> None: ...

    check_routes(guarded.routes)
    with pytest.raises(RuntimeError, match="GET /oops"):
        check_routes([*guarded.routes, *unguarded.routes])
    with pytest.raises(ValueError):
        require_permission()
