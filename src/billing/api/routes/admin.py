"""Admin endpoints: every route names the permissions it needs (create_app refuses a route that names none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from sqlalchemy.orm import Session

from billing.api import schemas
from billing.api.deps import CodePath, IdPath, SessionDep, require_permission
from billing.models import TokenTransactionKind, User
from billing.services import rbac, tokens, users

router = APIRouter(prefix="/admin", tags=["admin"])

TokensReader = Annotated[User, Depends(require_permission("tokens:read", "users:read"))]
TokensWriter = Annotated[User, Depends(require_permission("tokens:write"))]
UsersReader = Annotated[User, Depends(require_permission("users:read"))]
RolesWriter = Annotated[User, Depends(require_permission("roles:write"))]


def _balance(session: SessionDep, user_id: int) -> schemas.BalanceOut:
    return schemas.BalanceOut(
        user_id=user_id,
        balance=tokens.balance_of(session, user_id),
        transactions=[schemas.TokenTransactionOut.model_validate(t) for t in tokens.history(session, user_id)],
    )


@router.get("/users/{user_id}/tokens")
def get_tokens(user_id: IdPath, admin: TokensReader, session: SessionDep) -> schemas.BalanceOut:
    """A user's balance and ledger."""
    users.get_user(session, user_id)
    return _balance(session, user_id)


def _change_tokens(
    session: Session,
    user_id: int,
    body: schemas.TokenChangeIn,
    change: Callable[..., Any],
    kind: TokenTransactionKind,
    description: str,
) -> schemas.TokenTransactionOut:
    """Apply one ledger change (credit or debit) and commit it."""
    entry = change(
        session,
        user_id,
        body.amount,
        body.kind or kind,
        description=body.description or description,
        idempotency_key=body.idempotency_key,
    )
    session.commit()
    return schemas.TokenTransactionOut.model_validate(entry)


@router.post("/users/{user_id}/tokens/credit", status_code=status.HTTP_201_CREATED)
def credit_tokens(
    user_id: IdPath, body: schemas.TokenChangeIn, admin: TokensWriter, session: SessionDep
) -> schemas.TokenTransactionOut:
    """Add tokens to a user's balance (kind grant, refund or adjustment)."""
    return _change_tokens(
        session, user_id, body, tokens.credit, TokenTransactionKind.GRANT, f"credited by user {admin.id}"
    )


@router.post("/users/{user_id}/tokens/debit", status_code=status.HTTP_201_CREATED)
def debit_tokens(
    user_id: IdPath, body: schemas.TokenChangeIn, admin: TokensWriter, session: SessionDep
) -> schemas.TokenTransactionOut:
    """Take tokens from a user's balance (kind consume, expire or adjustment); 409 if the balance is too low."""
    return _change_tokens(
        session, user_id, body, tokens.debit, TokenTransactionKind.CONSUME, f"debited by user {admin.id}"
    )


@router.get("/users/{user_id}/access")
def get_access(user_id: IdPath, admin: UsersReader, session: SessionDep) -> schemas.AccessOut:
    """A user's roles and permissions."""
    users.get_user(session, user_id)
    return schemas.AccessOut(
        user_id=user_id,
        roles=rbac.roles_of(session, user_id),
        permissions=sorted(rbac.permissions_of(session, user_id)),
    )


@router.post("/users/{user_id}/roles", status_code=status.HTTP_201_CREATED)
def grant_role(user_id: IdPath, body: schemas.RoleIn, admin: RolesWriter, session: SessionDep) -> schemas.AccessOut:
    """Grant a role to a user."""
    users.get_user(session, user_id)
    rbac.grant_role(session, user_id, body.role, granted_by_id=admin.id)
    session.commit()
    return get_access(user_id, admin, session)


@router.delete("/users/{user_id}/roles/{role}")
def revoke_role(user_id: IdPath, role: CodePath, admin: RolesWriter, session: SessionDep) -> schemas.AccessOut:
    """Take a role away from a user."""
    users.get_user(session, user_id)
    rbac.revoke_role(session, user_id, role)
    session.commit()
    return get_access(user_id, admin, session)
