"""billing.services.subscriptions: billing periods."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from billing.models import BillingInterval
from billing.services.subscriptions import add_interval

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
