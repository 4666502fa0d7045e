"""Registration, login and password reset: throttled per client, per account and client, and (login) per account.

Mails are queued in the outbox in the request's transaction and sent after the reply (and retried
by the sender until they go out); see billing.services.throttle for who can slow down whom.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status
from sqlalchemy.orm import Session

from billing import security
from billing.api import schemas
from billing.api.deps import CurrentUser, SessionDep, public, require_permission
from billing.services import outbox, password_reset, throttle, users

router = APIRouter(prefix="/auth", tags=["auth"])

FORGOT_REPLY = "If an account exists for this email, a reset token has been sent to it."
SIGNUP_REPLY = "Registration received: check your mailbox, then log in."


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _count_attempt(request: Request, session: Session, action: str, email: str | None) -> None:
    """Count the attempt and commit it at once, so it counts even when the action then fails."""
    account = users.normalize_email(email) if email is not None else None
    throttle.hit(session, request.app.state.throttle, action, account=account, address=_client(request))
    session.commit()


def _queue_mail(request: Request, session: Session, kind: str, email: str, background: BackgroundTasks) -> None:
    """Queue a mail in the caller's transaction and try it after the reply.

    Mails a stranger can cause (a reset, "you already have an account") count against the account's
    quota; past it nothing is queued, and the last mail sent (its token still valid) is the one to use.
    """
    if kind != outbox.WELCOME and not throttle.within_mail_quota(session, request.app.state.throttle, email):
        return
    outbox.enqueue(session, kind, email, ip=_client(request))
    # The courier is woken after the reply, known address or not: the request's own work is the same for both.
    background.add_task(request.app.state.courier.wake)


@router.post("/register", status_code=status.HTTP_202_ACCEPTED, dependencies=[public()])
def register(
    body: schemas.RegisterIn, request: Request, session: SessionDep, background: BackgroundTasks
) -> schemas.Message:
    """Create an account; the reply is the same whether or not the email already had one."""
    _count_attempt(request, session, "signup", None)
    user = users.register(session, body.email, body.password, body.full_name, request.app.state.password_hasher)
    kind = outbox.WELCOME if user is not None else outbox.ALREADY_REGISTERED
    _queue_mail(request, session, kind, users.normalize_email(body.email), background)
    session.commit()
    return schemas.Message(detail=SIGNUP_REPLY)


@router.post("/login", dependencies=[public()])
def login(body: schemas.LoginIn, request: Request, session: SessionDep) -> schemas.AccessTokenOut:
    """Exchange credentials for a bearer access token."""
    _count_attempt(request, session, "login", body.email)
    user = users.authenticate(session, body.email, body.password, request.app.state.password_hasher)
    throttle.succeeded(session, "login", account=user.email, address=_client(request))
    session.commit()
    ttl = request.app.state.settings.access_token_ttl_seconds
    secret = request.app.state.jwt_secret
    fingerprint = security.password_fingerprint(user.password_hash, secret)
    token = security.create_access_token(user.id, secret, ttl, fingerprint=fingerprint)
    return schemas.AccessTokenOut(access_token=token, expires_in=ttl)


@router.get("/me", dependencies=[Depends(require_permission("account:read"))])
def me(user: CurrentUser) -> schemas.UserOut:
    """The authenticated user."""
    return schemas.UserOut.model_validate(user)


@router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED, dependencies=[public()])
def forgot_password(
    body: schemas.ForgotPasswordIn, request: Request, session: SessionDep, background: BackgroundTasks
) -> schemas.Message:
    """Mail a reset token if the account exists; the reply and the work are the same either way.

    Never refused for the account's sake (only for the client's): the owner can always get a mail.
    """
    _count_attempt(request, session, "forgot", None)
    _queue_mail(request, session, outbox.PASSWORD_RESET, users.normalize_email(body.email), background)
    session.commit()
    return schemas.Message(detail=FORGOT_REPLY)


@router.post("/reset-password", dependencies=[public()])
def reset_password(body: schemas.ResetPasswordIn, request: Request, session: SessionDep) -> schemas.Message:
    """Set a new password with a valid, unused, unexpired token mailed to this account; every session ends.

    The account's failed logins are forgotten: whoever caused them, the owner is back in.
    """
    _count_attempt(request, session, "reset", body.email)
    user = password_reset.reset_password(
        session, body.email, body.token, body.new_password, request.app.state.password_hasher
    )
    for action in ("reset", "login"):
        throttle.succeeded(session, action, account=user.email, address=_client(request))
    session.commit()
    return schemas.Message(detail="password changed")
