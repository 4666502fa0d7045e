"""Registration, login and password reset."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from billing import security
from billing.api import schemas
from billing.api.deps import CurrentUser, MailerDep, SessionDep
from billing.services import password_reset, users
from billing.services.mail import password_reset_message

router = APIRouter(prefix="/auth", tags=["auth"])

FORGOT_REPLY = "If an account exists for this email, a reset token has been sent to it."


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(body: schemas.RegisterIn, session: SessionDep) -> schemas.UserOut:
    """Create an account."""
    user = users.register(session, body.email, body.password, body.full_name)
    session.commit()
    return schemas.UserOut.model_validate(user)


@router.post("/login")
def login(body: schemas.LoginIn, request: Request, session: SessionDep) -> schemas.AccessTokenOut:
    """Exchange credentials for a bearer access token."""
    user = users.authenticate(session, body.email, body.password)
    session.commit()
    ttl = request.app.state.settings.access_token_ttl_seconds
    token = security.create_access_token(user.id, request.app.state.jwt_secret, ttl)
    return schemas.AccessTokenOut(access_token=token, expires_in=ttl)


@router.get("/me")
def me(user: CurrentUser) -> schemas.UserOut:
    """The authenticated user."""
    return schemas.UserOut.model_validate(user)


@router.post("/forgot-password", status_code=status.HTTP_202_ACCEPTED)
def forgot_password(
    body: schemas.ForgotPasswordIn, request: Request, session: SessionDep, mailer: MailerDep
) -> schemas.Message:
    """Mail a reset token if the account exists; the reply is the same either way."""
    ttl = request.app.state.settings.reset_token_ttl_seconds
    client = request.client.host if request.client else None
    issued = password_reset.request_reset(session, body.email, ttl, ip=client)
    session.commit()
    if issued is not None:
        mailer.send(password_reset_message(issued.email, issued.token, ttl))
    return schemas.Message(detail=FORGOT_REPLY)


@router.post("/reset-password")
def reset_password(body: schemas.ResetPasswordIn, session: SessionDep) -> schemas.Message:
    """Set a new password with a valid, unused, unexpired token mailed to this account."""
    password_reset.reset_password(session, body.email, body.token, body.new_password)
    session.commit()
    return schemas.Message(detail="password changed")
