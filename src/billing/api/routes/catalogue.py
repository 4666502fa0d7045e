"""The public catalogue: tariff plans with features, add-ons and token bundles."""

from __future__ import annotations

from fastapi import APIRouter

from billing.api import schemas
from billing.api.deps import CodePath, SessionDep, public
from billing.services import catalogue

# The catalogue is the shop window: open to anyone, signed in or not.
router = APIRouter(tags=["catalogue"], dependencies=[public()])


@router.get("/plans")
def list_plans(session: SessionDep) -> list[schemas.PlanOut]:
    """Active plans with their features and limits."""
    return [schemas.PlanOut.model_validate(plan) for plan in catalogue.list_plans(session)]


@router.get("/plans/{code}")
def get_plan(code: CodePath, session: SessionDep) -> schemas.PlanOut:
    """One active plan."""
    return schemas.PlanOut.model_validate(catalogue.get_plan(session, code))


@router.get("/addons")
def list_addons(session: SessionDep) -> list[schemas.AddonOut]:
    """Active add-ons."""
    return [schemas.AddonOut.model_validate(addon) for addon in catalogue.list_addons(session)]


@router.get("/token-bundles")
def list_bundles(session: SessionDep) -> list[schemas.BundleOut]:
    """Token bundles on sale."""
    return [schemas.BundleOut.model_validate(bundle) for bundle in catalogue.list_bundles(session)]
