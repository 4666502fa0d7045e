"""billing.services.usage: metering periods and what is left of a limit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from billing.models import UsagePeriod
from billing.services.usage import UsageResult, period_bounds

UTC = timezone.utc


def test_period_bounds() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)

    assert period_bounds(UsagePeriod.DAY, now) == (datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert period_bounds(UsagePeriod.MONTH, now) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )


def test_period_bounds_are_utc_calendar_periods_whatever_the_callers_zone() -> None:
    # 01:30 on 1 March in UTC+02:00 is still 28 February in UTC.
    now = datetime(2026, 3, 1, 1, 30, tzinfo=timezone(timedelta(hours=2)))

    assert period_bounds(UsagePeriod.DAY, now) == (datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    assert period_bounds(UsagePeriod.MONTH, now) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


@pytest.mark.parametrize(("used", "limit", "remaining"), [(3, 10, 7), (10, 10, 0), (12, 10, 0), (5, None, None)])
def test_remaining_never_goes_negative_and_is_none_when_unlimited(
    used: int, limit: int | None, remaining: int | None
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    result = UsageResult(feature="api_calls", used=used, limit=limit, period_start=start, period_end=start)

    assert result.remaining == remaining
