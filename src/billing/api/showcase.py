"""The catalogue in memory: plans, add-ons and bundles as ready JSON bytes, read again every few seconds.

Catalogue reads are most of the traffic and change rarely. Each worker keeps one snapshot and
serves it from the event loop: no thread, no gate slot, no pool connection. A stale snapshot is
still served while one refresh (never more) reads the database over the catalogue's own one-
connection engine, so a refresh never waits behind the requests that hold the main pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from pydantic import TypeAdapter
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from billing.api import schemas
from billing.services import catalogue

log = logging.getLogger("billing.catalogue")

_PLANS = TypeAdapter(list[schemas.PlanOut])
_ADDONS = TypeAdapter(list[schemas.AddonOut])
_BUNDLES = TypeAdapter(list[schemas.BundleOut])


@dataclass(frozen=True)
class Snapshot:
    """The catalogue as response bodies, and when it was read (monotonic seconds)."""

    plans: bytes
    plan_by_code: dict[str, bytes]
    addons: bytes
    bundles: bytes
    read_at: float


@dataclass
class Showcase:
    """One worker's catalogue snapshot, refreshed after ``ttl`` seconds."""

    engine: Engine
    ttl: float
    snapshot: Snapshot | None = None
    _refreshing: asyncio.Task[Snapshot] | None = field(default=None, repr=False)

    def read(self) -> Snapshot:
        """Read the catalogue from the database now (blocking: run it in a thread)."""
        with Session(self.engine) as session:
            plans = [schemas.PlanOut.model_validate(plan) for plan in catalogue.list_plans(session)]
            addons = [schemas.AddonOut.model_validate(addon) for addon in catalogue.list_addons(session)]
            bundles = [schemas.BundleOut.model_validate(bundle) for bundle in catalogue.list_bundles(session)]
        return Snapshot(
            plans=_PLANS.dump_json(plans),
            plan_by_code={plan.code: plan.model_dump_json().encode() for plan in plans},
            addons=_ADDONS.dump_json(addons),
            bundles=_BUNDLES.dump_json(bundles),
            read_at=time.monotonic(),
        )

    async def current(self) -> Snapshot:
        """The snapshot: the first call waits for it; later ones get it at once (a stale one starts a refresh)."""
        snapshot = self.snapshot
        if snapshot is not None:
            if time.monotonic() - snapshot.read_at >= self.ttl:
                self._refresh()
            return snapshot
        return await asyncio.shield(self._refresh())

    def _refresh(self) -> asyncio.Task[Snapshot]:
        loop = asyncio.get_running_loop()
        task = self._refreshing
        # A task of another loop (a test client makes one loop per call) can never be awaited here.
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._refreshing = loop.create_task(self._load())
            task.add_done_callback(_report_failure)
        return task

    async def _load(self) -> Snapshot:
        self.snapshot = await asyncio.to_thread(self.read)
        return self.snapshot


def _report_failure(task: asyncio.Task[Snapshot]) -> None:
    # A failed refresh leaves the last snapshot in place; the next stale read tries again.
    if not task.cancelled() and task.exception() is not None:
        log.error("could not read the catalogue: %s", task.exception())
