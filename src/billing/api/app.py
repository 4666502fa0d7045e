"""The application factory: engine, sessions, secret and mailer live on ``app.state``; nothing happens at import."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from argon2 import PasswordHasher
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import DataError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute

from billing import security
from billing.api.edge import BodyReader, ClientAddress
from billing.api.gate import ConcurrencyGate
from billing.api.guards import invalid_request, unguarded_routes, unstorable_value
from billing.api.routes import admin, auth, catalogue, payments, subscriptions, usage
from billing.api.secret import jwt_secret
from billing.api.server import mask_card_numbers_in_logs
from billing.api.showcase import Showcase
from billing.services import outbox
from billing.services.errors import AuthenticationFailed, RetryLater, ServiceError
from billing.services.gateway import Gateway, SandboxGateway
from billing.services.mail import Mailer, mailer_from_env
from billing.services.throttle import ThrottlePolicy
from billing.settings import AppSettings, load_settings, sqlalchemy_url

# A service error's detail may quote a short piece of the request; never more than this.
DETAIL_LIMIT = 300
# How often a worker looks for queued mail that is due (new mail is also tried right after its request).
MAIL_POLL_SECONDS = 1.0


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    headers: dict[str, str] = {}
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RetryLater):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    detail = exc.detail.encode("utf-8", "replace").decode("utf-8")[:DETAIL_LIMIT]
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)


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


def check_routes(routes: Iterable[BaseRoute]) -> None:
    """Deny by default: refuse to start when any route neither checks a permission nor is marked public."""
    unguarded = unguarded_routes(routes)
    if unguarded:
        raise RuntimeError(f"routes that check no permission and are not marked public: {'; '.join(unguarded)}")


def outbox_sender(
    database_url: str | None = None, mailer: Mailer | None = None, settings: AppSettings | None = None
) -> tuple[outbox.Sender, Engine]:
    """A sender of queued mail over its own one-connection engine (returned too: dispose it when done).

    Defaults: DATABASE_URL, the mailer the environment names, the settings of the environment.
    """
    settings = settings or load_settings()
    url = database_url or settings.database_url
    if not url:
        raise RuntimeError("no database URL: set DATABASE_URL")
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=1, max_overflow=0)
    sender = outbox.Sender(
        sessionmaker[Session](bind=engine, expire_on_commit=False),
        mailer if mailer is not None else mailer_from_env(os.environ),
        settings.reset_token_ttl_seconds,
        settings.mail_retry_seconds,
        settings.mail_max_attempts,
    )
    return sender, engine


def dispose_engines(app: FastAPI) -> None:
    """Close every connection the app holds (its pool, the catalogue's and the courier's)."""
    for engine in app.state.engines:
        engine.dispose()


def served_from_memory(routes: Iterable[BaseRoute]) -> Callable[[dict[str, Any]], bool]:
    """A test of an ASGI scope: true for a GET or HEAD of one of these (in-memory) routes, which need no slot."""
    patterns = [route.path_regex for route in routes if isinstance(route, APIRoute)]

    def exempt(scope: dict[str, Any]) -> bool:
        return scope.get("method") in ("GET", "HEAD") and any(p.match(scope.get("path", "")) for p in patterns)

    return exempt


def create_app(
    database_url: str | None = None,
    *,
    mailer: Mailer | None = None,
    gateway: Gateway | None = None,
    pool_size: int | None = None,
    throttle: ThrottlePolicy | None = None,
    secret: str | None = None,
    password_hasher: PasswordHasher | None = None,
) -> FastAPI:
    """Build the billing API over the database at ``database_url`` (default: DATABASE_URL).

    ``secret`` signs tokens for an app that lives in one process (tests, the smoke); a served app takes
    BILLING_JWT_SECRET or the secret its workers share through a file. ``password_hasher`` is for an
    app that only ever stores throwaway accounts (``security.TEST_HASHER`` in tests and the smoke).
    """
    settings = load_settings()
    url = database_url or settings.database_url
    if not url:
        raise RuntimeError("no database URL: pass one to create_app() or set DATABASE_URL")
    size = pool_size or settings.pool_size
    # The gate below admits no more requests than there are connections, so the pool timeout is only a backstop.
    engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=size, max_overflow=size, pool_timeout=10)
    # Their own budgets, one connection each: the catalogue's refreshes and the mail courier never wait for
    # (or take) a connection the requests need.
    showcase_engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True, pool_size=1, max_overflow=0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check = getattr(app.state.mailer, "check", None)
        if check is not None:
            await asyncio.to_thread(check)  # a TLS setting the mail server cannot honour stops the start here
        courier: outbox.Courier = app.state.courier
        sending = asyncio.create_task(courier.run())
        try:
            yield
        finally:
            courier.stop()
            await sending
            dispose_engines(app)

    app = FastAPI(title="Billing", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.showcase = Showcase(showcase_engine, settings.catalogue_ttl_seconds)
    app.state.sessionmaker = sessionmaker[Session](bind=engine, expire_on_commit=False)
    app.state.password_hasher = password_hasher or security.STRONG_HASHER
    app.state.jwt_secret = secret or jwt_secret(settings.jwt_secret, settings.jwt_secret_file, url)
    # Real delivery by default (SMTP, or a file or the console in development); an in-memory outbox only when passed.
    app.state.mailer = mailer if mailer is not None else mailer_from_env(os.environ)
    ttl = settings.reset_token_ttl_seconds
    app.state.throttle = (
        throttle if throttle is not None else ThrottlePolicy().scaled(settings.throttle_factor).with_mail_window(ttl)
    )
    sender, mail_engine = outbox_sender(url, app.state.mailer, settings)
    # Delivers queued mail in this worker while it serves (started and stopped by the lifespan).
    app.state.courier = outbox.Courier(sender, MAIL_POLL_SECONDS)
    app.state.engines = (engine, showcase_engine, mail_engine)
    # The sandbox is the only provider wired up: it follows the documented test cards, never a real card.
    app.state.gateway = gateway if gateway is not None else SandboxGateway()
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(PoolTimeout, _busy)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(DataError, unstorable_value)
    # Added innermost first. Outermost: who the client is; then the whole body, read before the gate, so a
    # slow client holds no slot; then the gate, sized to the connections (pool and overflow).
    app.add_middleware(
        ConcurrencyGate,
        limit=2 * size,
        deadline=settings.queue_wait_ms / 1000,
        exempt=served_from_memory(catalogue.router.routes),
    )
    app.add_middleware(BodyReader, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_seconds)
    app.add_middleware(ClientAddress, trusted=settings.trusted_proxies)
    mask_card_numbers_in_logs()
    # Checked on the routers themselves: their routes carry every dependency (the app adds none when including).
    check_routes(route for router in ROUTERS for route in router.routes)
    for router in ROUTERS:
        app.include_router(router)
    return app
