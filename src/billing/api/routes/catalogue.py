"""The public catalogue: tariff plans with features, add-ons and token bundles, served from memory.

These routes are async and read ``app.state.showcase`` (billing.api.showcase): they never take a
gate slot, a thread or a connection of the main pool.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from billing.api import schemas
from billing.api.deps import CodePath, public
from billing.api.showcase import Showcase, Snapshot
from billing.services.errors import NotFound

# The catalogue is the shop window: open to anyone, signed in or not.
router = APIRouter(tags=["catalogue"], dependencies=[public()])


async def _snapshot(request: Request) -> Snapshot:
    showcase: Showcase = request.app.state.showcase
    return await showcase.current()


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


@router.get("/plans", response_model=list[schemas.PlanOut])
async def list_plans(request: Request) -> Response:
    """Active plans with their features and limits."""
    return _json((await _snapshot(request)).plans)


@router.get("/plans/{code}", response_model=schemas.PlanOut)
async def get_plan(code: CodePath, request: Request) -> Response:
    """One active plan."""
    body = (await _snapshot(request)).plan_by_code.get(code)
    if body is None:
        raise NotFound(f"no plan {code!r}")
    return _json(body)


@router.get("/addons", response_model=list[schemas.AddonOut])
async def list_addons(request: Request) -> Response:
    """Active add-ons."""
    return _json((await _snapshot(request)).addons)


@router.get("/token-bundles", response_model=list[schemas.BundleOut])
async def list_bundles(request: Request) -> Response:
    """Token bundles on sale."""
    return _json((await _snapshot(request)).bundles)
