"""FastAPI dependencies: a Session per request, the current user, and permission checks (deny by default)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from billing import security
from billing.models import User
from billing.services import rbac, users
from billing.services.errors import AuthenticationFailed, PermissionDenied
from billing.services.gateway import Gateway
from billing.services.mail import Mailer

PERMISSIONS_ATTR = "__billing_permissions__"

_bearer = HTTPBearer(auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """A Session for this request; whatever the handler did not commit is rolled back."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_mailer(request: Request) -> Mailer:
    """The app's mailer (app.state.mailer)."""
    mailer: Mailer = request.app.state.mailer
    return mailer


MailerDep = Annotated[Mailer, Depends(get_mailer)]


def get_gateway(request: Request) -> Gateway:
    """The app's payment provider (app.state.gateway)."""
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


def get_current_user(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The active user named by a valid bearer access token, else 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationFailed("not authenticated")
    try:
        user_id = security.decode_access_token(credentials.credentials, request.app.state.jwt_secret)
    except security.InvalidAccessToken:
        raise AuthenticationFailed("invalid or expired access token") from None
    return users.get_active_user(session, user_id)


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_permission(*codes: str) -> Callable[..., User]:
    """A dependency that returns the current user if they hold every permission in ``codes``, else 403."""
    if not codes:
        raise ValueError("require_permission needs at least one permission code")

    def check(user: CurrentUser, session: SessionDep) -> User:
        granted = rbac.permissions_of(session, user.id)
        missing = [code for code in codes if code not in granted]
        if missing:
            raise PermissionDenied(f"missing permission {', '.join(missing)}")
        return user

    setattr(check, PERMISSIONS_ATTR, codes)
    return check


def permissions_required_by(dependant: Any) -> set[str]:
    """Every permission code checked anywhere in a route's dependency tree."""
    found: set[str] = set(getattr(dependant.call, PERMISSIONS_ATTR, ()))
    for sub in dependant.dependencies:
        found |= permissions_required_by(sub)
    return found
