"""Metered features: count a use (429 over the plan's limit) or read the counter."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from billing.api import schemas
from billing.api.deps import CodePath, CurrentUser, SessionDep, require_permission
from billing.services import usage

router = APIRouter(prefix="/features", tags=["usage"])


@router.post("/{code}/use", dependencies=[Depends(require_permission("usage:write"))])
def use_feature(code: CodePath, user: CurrentUser, session: SessionDep) -> schemas.UsageOut:
    """Count one use of a feature; 429 with Retry-After once the period's limit is used up."""
    result = usage.use_feature(session, user.id, code)
    session.commit()
    return schemas.UsageOut.model_validate(result)


@router.get("/{code}/usage", dependencies=[Depends(require_permission("usage:read"))])
def get_usage(code: CodePath, user: CurrentUser, session: SessionDep) -> schemas.UsageOut:
    """The user's counter and limit for a feature in the current period."""
    return schemas.UsageOut.model_validate(usage.usage_of(session, user.id, code))
