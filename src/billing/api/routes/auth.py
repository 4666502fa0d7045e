"""Registration, login and password reset: throttled per account and per client address."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status

from billing import security
from billing.api import schemas
from billing.api.deps import CurrentUser, MailerDep, SessionDep, public, require_permission
from billing.services import password_reset, throttle, users
from billing.services.mail import already_registered_message, deliver, password_reset_message, welcome_message

router = APIRouter(prefix="/auth", tags=["auth"])

FORGOT_REPLY = "If an account exists for this email, a reset token has been sent to it."
SIGNUP_REPLY = "Registration received: check your mailbox, then log in."


def _count_attempt(request: Request, session: SessionDep, action: str, email: str) -> None:
    """Count the attempt and commit it at once, so it counts even when the action then fails."""
    address = request.client.host if request.client else None
    throttle.hit(session, request.app.state.throttle, action, account=users.normalize_email(email), address=address)
    session.commit()


@router.post("/register", status_code=status.HTTP_202_ACCEPTED, dependencies=[public()])
def register(
    body: schemas.RegisterIn, request: Request, session: SessionDep, mailer: MailerDep, background: BackgroundTasks
) -> schemas.Message:
    """Create an account; the reply is the same whether or not the email already had one."""
    _count_attempt(request, session, "signup", body.email)
    user = users.register(session, body.email, body.password, body.full_name, request.app.state.password_hasher)
    session.commit()
    address = users.normalize_email(body.email)
    message = welcome_message(address) if user is not None else already_registered_message(address)
    background.add_task(deliver, mailer, message)
    return schemas.Message(detail=SIGNUP_REPLY)


@router.post("/login", dependencies=[public()])
def login(body: schemas.LoginIn, request: Request, session: SessionDep) -> schemas.AccessTokenOut:
    """Exchange credentials for a bearer access token."""
    _count_attempt(request, session, "login", body.email)
    user = users.authenticate(session, body.email, body.password, request.app.state.password_hasher)
    throttle.clear(session, "login", account=user.email)
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
    body: schemas.ForgotPasswordIn,
    request: Request,
    session: SessionDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> schemas.Message:
    """Mail a reset token if the account exists; the reply and the work are the same either way."""
    _count_attempt(request, session, "forgot", body.email)
    ttl = request.app.state.settings.reset_token_ttl_seconds
    client = request.client.host if request.client else None
    issued = password_reset.request_reset(session, body.email, ttl, ip=client)
    session.commit()
    if issued is not None:
        # Delivered after the reply: the time an SMTP server takes must not tell which emails have accounts.
        background.add_task(deliver, mailer, password_reset_message(issued.email, issued.token, ttl))
    return schemas.Message(detail=FORGOT_REPLY)


@router.post("/reset-password", dependencies=[public()])
def reset_password(body: schemas.ResetPasswordIn, request: Request, session: SessionDep) -> schemas.Message:
    """Set a new password with a valid, unused, unexpired token mailed to this account; every session ends."""
    _count_attempt(request, session, "reset", body.email)
    password_reset.reset_password(session, body.email, body.token, body.new_password, request.app.state.password_hasher)
    session.commit()
    return schemas.Message(detail="password changed")
