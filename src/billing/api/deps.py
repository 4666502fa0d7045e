"""FastAPI dependencies: a Session per request, the current user, and permission checks (deny by default)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from billing import security
from billing.models import User
from billing.services import rbac, users
from billing.services.errors import AuthenticationFailed, PermissionDenied
from billing.services.gateway import Gateway
from billing.services.mail import Mailer

PERMISSIONS_ATTR = "__billing_permissions__"
PUBLIC_ATTR = "__billing_public__"

# Path parameters: ids are bigints (outside that range: 422, never a database error); codes are short.
IdPath = Annotated[int, Path(ge=1, le=security.MAX_ID)]
CodePath = Annotated[str, Path(min_length=1, max_length=100)]

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
    secret: str = request.app.state.jwt_secret
    try:
        user_id, fingerprint = security.decode_access_claims(credentials.credentials, secret)
    except security.InvalidAccessToken:
        raise AuthenticationFailed("invalid or expired access token") from None
    user = users.get_active_user(session, user_id)
    if not hmac.compare_digest(fingerprint, security.password_fingerprint(user.password_hash, secret)):
        raise AuthenticationFailed("the session ended when the password changed; log in again")
    return user


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


def public() -> Any:
    """Mark a route as open to anyone (``dependencies=[public()]``): the explicit opposite of a permission."""

    # Async, so a public route that needs nothing else (the catalogue) never takes a thread for it.
    async def open_to_all() -> None:
        return None

    setattr(open_to_all, PUBLIC_ATTR, True)
    return Depends(open_to_all)


def is_public(dependant: Any) -> bool:
    """True when a route's dependency tree holds the public() marker."""
    return bool(getattr(dependant.call, PUBLIC_ATTR, False)) or any(is_public(d) for d in dependant.dependencies)


def permissions_required_by(dependant: Any) -> set[str]:
    """Every permission code checked anywhere in a route's dependency tree."""
    found: set[str] = set(getattr(dependant.call, PERMISSIONS_ATTR, ()))
    for sub in dependant.dependencies:
        found |= permissions_required_by(sub)
    return found
