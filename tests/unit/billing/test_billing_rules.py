"""Pure rules of the service layer and the app factory, without a database."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends

from billing.api.app import ROUTERS, check_routes, create_app
from billing.api.deps import public, require_permission
from billing.models import BillingInterval, UsagePeriod
from billing.services.errors import InsufficientBalance, UsageLimitExceeded
from billing.services.invoices import InvoiceItem, money
from billing.services.subscriptions import add_interval
from billing.services.usage import period_bounds
from billing.smoke import describe

UTC = timezone.utc


@pytest.mark.parametrize(
    ("start", "interval", "end"),
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), BillingInterval.MONTH, datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), BillingInterval.MONTH, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), BillingInterval.MONTH, datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2028, 2, 29, tzinfo=UTC), BillingInterval.YEAR, datetime(2029, 2, 28, tzinfo=UTC)),
    ],
)
def test_add_interval(start: datetime, interval: BillingInterval, end: datetime) -> None:
    assert add_interval(start, interval) == end


def test_period_bounds() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)

    assert period_bounds(UsagePeriod.DAY, now) == (datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert period_bounds(UsagePeriod.MONTH, now) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )


def test_money_and_line_amounts() -> None:
    assert money(Decimal("0.125")) == Decimal("0.13")
    assert money(3) == Decimal("3.00")
    assert InvoiceItem("x", Decimal("9.99"), "USD", quantity=3).amount == Decimal("29.97")


def test_error_status_codes() -> None:
    assert InsufficientBalance("x").status_code == 409
    assert UsageLimitExceeded("x", 5).status_code == 429


def test_create_app_needs_a_url_and_connects_lazily(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("BILLING_JWT_SECRET", raising=False)
    monkeypatch.setenv("BILLING_JWT_SECRET_FILE", str(tmp_path / "jwt.secret"))
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app()
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:1/nowhere")  # never connected to
    first, second = create_app(), create_app()

    assert str(first.state.engine.url.drivername) == "postgresql+psycopg"
    # Without BILLING_JWT_SECRET every worker (every app) shares one generated secret, kept in a private file.
    assert first.state.jwt_secret == second.state.jwt_secret == (tmp_path / "jwt.secret").read_text()
    assert len(first.state.jwt_secret) >= 32
    assert (tmp_path / "jwt.secret").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("BILLING_JWT_SECRET", "from-the-environment-and-32-chars-long")
    assert create_app().state.jwt_secret == "from-the-environment-and-32-chars-long"
    monkeypatch.setenv("BILLING_JWT_SECRET", "short")
    with pytest.raises(RuntimeError, match="BILLING_JWT_SECRET must have at least 32 characters"):
        create_app()


def test_every_route_is_public_or_names_a_permission() -> None:
    check_routes(route for router in ROUTERS for route in router.routes)
    guarded, unguarded = APIRouter(prefix="/admin"), APIRouter()

    @guarded.get("/fine", dependencies=[Depends(require_permission("users:read"))])
    def fine() -> None: ...

    @guarded.get("/open", dependencies=[public()])
    def open_route() -> None: ...

    @unguarded.get("/oops")
    def oops() -> None: ...

    check_routes(guarded.routes)
    with pytest.raises(RuntimeError, match="GET /oops"):
        check_routes([*guarded.routes, *unguarded.routes])
    with pytest.raises(ValueError):
        require_permission()


def test_describe_gives_one_line() -> None:
    assert describe(AssertionError("first\nsecond")) == "first"
    assert describe(KeyError("k")) == "KeyError: 'k'"
