"""The application factory: engine, sessions, secret and mailer live on ``app.state``; nothing happens at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import create_engine
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from billing import security
from billing.api.deps import permissions_required_by
from billing.api.gate import ConcurrencyGate
from billing.api.routes import admin, auth, catalogue, payments, subscriptions, usage
from billing.services.errors import AuthenticationFailed, ServiceError, UsageLimitExceeded
from billing.services.gateway import Gateway, SandboxGateway
from billing.services.mail import InMemoryMailer, Mailer
from billing.settings import load_settings, sqlalchemy_url

ADMIN_PREFIX = "/admin"


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, UsageLimitExceeded):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


async def _busy(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "the server is busy; retry shortly"}, status_code=503, headers={"Retry-After": "1"})


ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    catalogue.router,
    subscriptions.router,
    payments.router,
    usage.router,
    admin.router,
)


def check_admin_routes(routers: Iterable[APIRouter]) -> None:
    """Deny by default: refuse any router holding an admin route that checks no permission."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute) or not route.path.startswith(ADMIN_PREFIX):
                continue
            if not permissions_required_by(route.dependant):
                raise RuntimeError(f"admin route {route.path} checks no permission")


def create_app(
    database_url: str | None = None,
    *,
    mailer: Mailer | None = None,
    gateway: Gateway | None = None,
    pool_size: int | None = None,
) -> FastAPI:
    """Build the billing API over the database at ``database_url`` (default: DATABASE_URL)."""
    settings = load_settings()
    url = database_url or settings.database_url
    if not url:
        raise RuntimeError("no database URL: pass one to create_app() or set DATABASE_URL")
    size = pool_size or settings.pool_size
    # The gate below admits no more requests than there are connections, so the pool timeout is only a backstop.
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=size, max_overflow=size, pool_timeout=10)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="Billing", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker[Session](bind=engine, expire_on_commit=False)
    app.state.jwt_secret = settings.jwt_secret or security.new_secret()
    app.state.mailer = mailer if mailer is not None else InMemoryMailer()
    # The sandbox is the only provider wired up: it follows the documented test cards, never a real card.
    app.state.gateway = gateway if gateway is not None else SandboxGateway()
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(PoolTimeout, _busy)
    limit = 2 * size
    app.add_middleware(ConcurrencyGate, limit=limit, max_waiting=4 * limit, max_wait=settings.queue_wait_ms / 1000)
    check_admin_routes(ROUTERS)
    for router in ROUTERS:
        app.include_router(router)
    return app
