"""The catalogue: tariff plans with their features and limits, add-ons and token bundles."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from billing.models import Addon, Feature, PlanFeature, TariffPlan, TokenBundle
from billing.services.errors import NotFound

FREE_PLAN_CODE = "free"


def list_plans(session: Session) -> Sequence[TariffPlan]:
    """Active plans in display order, with their features loaded."""
    stmt = (
        sa.select(TariffPlan)
        .where(TariffPlan.is_active.is_(True))
        .order_by(TariffPlan.sort_order, TariffPlan.price, TariffPlan.code)
        .options(selectinload(TariffPlan.plan_features).selectinload(PlanFeature.feature))
    )
    return session.scalars(stmt).all()


def get_plan(session: Session, code: str, active_only: bool = True) -> TariffPlan:
    """The plan with this code (features loaded), or NotFound."""
    stmt = (
        sa.select(TariffPlan)
        .where(TariffPlan.code == code)
        .options(selectinload(TariffPlan.plan_features).selectinload(PlanFeature.feature))
    )
    if active_only:
        stmt = stmt.where(TariffPlan.is_active.is_(True))
    plan = session.scalars(stmt).one_or_none()
    if plan is None:
        raise NotFound(f"no plan {code!r}")
    return plan


def get_feature(session: Session, code: str) -> Feature:
    """The feature with this code, or NotFound."""
    feature = session.scalars(sa.select(Feature).where(Feature.code == code)).one_or_none()
    if feature is None:
        raise NotFound(f"no feature {code!r}")
    return feature


def list_addons(session: Session) -> Sequence[Addon]:
    """Active add-ons, by code."""
    return session.scalars(sa.select(Addon).where(Addon.is_active.is_(True)).order_by(Addon.code)).all()


def get_addons(session: Session, codes: Sequence[str]) -> list[Addon]:
    """The active add-ons with these codes, in the order given; an unknown code is NotFound."""
    if not codes:
        return []
    rows = session.scalars(sa.select(Addon).where(Addon.code.in_(codes), Addon.is_active.is_(True))).all()
    by_code = {addon.code: addon for addon in rows}
    missing = sorted(set(codes) - by_code.keys())
    if missing:
        raise NotFound(f"no add-on {', '.join(repr(c) for c in missing)}")
    return [by_code[code] for code in codes]


def list_bundles(session: Session) -> Sequence[TokenBundle]:
    """Token bundles on sale, smallest first."""
    stmt = sa.select(TokenBundle).where(TokenBundle.is_active.is_(True)).order_by(TokenBundle.tokens, TokenBundle.code)
    return session.scalars(stmt).all()


def get_bundle(session: Session, code: str) -> TokenBundle:
    """The active bundle with this code, or NotFound."""
    stmt = sa.select(TokenBundle).where(TokenBundle.code == code, TokenBundle.is_active.is_(True))
    bundle = session.scalars(stmt).one_or_none()
    if bundle is None:
        raise NotFound(f"no token bundle {code!r}")
    return bundle
